"""The price table and the cost formula; pure Python, no gRPC, no SQL.

Prices are USD per 1M tokens held as ``Decimal``; a cost is computed exactly in
``Decimal`` and rounded half-up to whole micro-USD once per call, so summing many
calls never accumulates float error.

Usage follows OpenTelemetry's ``gen_ai.usage.*`` meaning (input includes cache
reads and writes, output includes reasoning), so each token is charged once:

* uncached input = input - cache_read - cache_write, at the input price;
* cache_read and cache_write at their own prices;
* output - reasoning at the output price, reasoning at the reasoning price.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from services.common.errors import InvalidArgument

MILLION = Decimal(1_000_000)
MICROS_PER_USD = Decimal(1_000_000)
# Far beyond any real call (LogSink refuses more too); priced, a larger count could
# overflow the BIGINT micro-dollar ledger and the int64 Money of a response.
MAX_TOKENS = 10**12
MAX_MODEL_CHARS = 256
_CANONICAL_CACHE_SIZE = 4096

# Dated snapshot suffixes providers append to a model name: gpt-4o-2024-08-06,
# claude-3-5-sonnet-20241022, claude-3-5-sonnet-v2@20241022 (Vertex AI).
_DATE_SUFFIX = re.compile(r"(?:[-@]v\d+)?[-@](?:\d{4}-\d{2}-\d{2}|\d{8})$")
# Routing prefixes used by gateways and SDKs: openai/gpt-4o, models/gemini-2.5-pro.
_PROVIDER_PREFIX = re.compile(r"^(?:[a-z0-9_.-]+/)+")
# Amazon Bedrock model ids: an optional cross-region inference prefix, the vendor,
# and a version: us.anthropic.claude-sonnet-4-20250514-v1:0.
_BEDROCK_ID = re.compile(
    r"^(?:(?:us|eu|apac|global|us-gov|ca|jp|au)\.)?"
    r"(?:anthropic|meta|amazon|cohere|mistral|ai21|deepseek|openai|xai)\.(.+?)(?:-v\d+(?::\d+)?)?$"
)
# Version labels that name a release of the same model, tried only after the name
# with them: a moving alias (claude-3-5-sonnet-latest), a Vertex AI version
# (claude-opus-4-6@default, chat-bison@001), a Gemini stable version
# (gemini-1.5-pro-001) and a Bedrock version without the vendor prefix
# (claude-sonnet-4-5-20250929-v1:0). OpenAI's four-digit snapshots (gpt-4-0613,
# gpt-3.5-turbo-1106) are not among them: those are priced apart.
_VERSION_SUFFIX = re.compile(r"(?:-latest|@[a-z0-9._-]+|-\d{3}|-v\d+:\d+)$")
# Azure OpenAI spells GPT-3.5 without the dot: gpt-35-turbo, gpt-35-turbo-0125.
_AZURE_GPT35 = re.compile(r"^gpt-35(?=-|$)")


class TierMode(enum.Enum):
    """How a long-context tier applies once the input crosses its threshold."""

    WHOLE_REQUEST = "whole_request"
    MARGINAL = "marginal"


@dataclass(frozen=True)
class Tier:
    """Prices that apply when a request's input is above ``above_input_tokens``."""

    above_input_tokens: int
    mode: TierMode
    input: Decimal
    output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None


@dataclass(frozen=True)
class Price:
    """One model's prices from ``effective_from`` (a UTC day) on."""

    model: str
    effective_from: date
    input: Decimal
    output: Decimal
    provider: str = ""
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    batch_input: Decimal | None = None
    batch_output: Decimal | None = None
    reasoning_output: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    source: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Usage:
    """Token usage of one call (OpenTelemetry meaning: input includes cached tokens)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    reasoning_output_tokens: int = 0

    def validate(self, prefix: str = "usage") -> None:
        """Raise ``InvalidArgument`` naming the field of any impossible count."""
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "reasoning_output_tokens",
        ):
            if getattr(self, name) < 0:
                raise InvalidArgument(f"{prefix}.{name}", "must not be negative")
            if getattr(self, name) > MAX_TOKENS:
                raise InvalidArgument(f"{prefix}.{name}", f"must be at most {MAX_TOKENS}")
        if self.cache_read_input_tokens + self.cache_creation_input_tokens > self.input_tokens:
            raise InvalidArgument(
                f"{prefix}.cache_read_input_tokens",
                "cache read + cache write tokens exceed input_tokens (input includes them)",
            )
        if self.reasoning_output_tokens > self.output_tokens:
            raise InvalidArgument(
                f"{prefix}.reasoning_output_tokens",
                "exceeds output_tokens (output includes reasoning tokens)",
            )


@dataclass(frozen=True)
class CostLine:
    """One charged component: tokens at a unit price; ``cost`` is exact USD."""

    component: str
    tokens: int
    price_per_mtok: Decimal
    cost: Decimal

    @property
    def micros(self) -> int:
        return to_micros(self.cost)


@dataclass(frozen=True)
class Cost:
    """The cost of one call; ``price`` is None when the model has no price."""

    micros: int
    lines: tuple[CostLine, ...] = ()
    price: Price | None = None
    tier: Tier | None = None

    @property
    def priced(self) -> bool:
        return self.price is not None


def to_micros(usd: Decimal) -> int:
    """Exact USD to integer micro-USD, rounded half-up (the one rounding step)."""
    return int((usd * MICROS_PER_USD).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def compute_cost(price: Price, usage: Usage, batch: bool = False) -> Cost:
    """Cost of ``usage`` at ``price``; see the module docstring for the formula.

    Tiers: the highest tier whose threshold the input exceeds applies. A
    whole-request tier reprices every token of the call; a marginal tier charges
    only the uncached input tokens above its threshold at its input price.
    Batch prices replace input/output prices; under a tier, the tier's input and
    output prices get the entry's batch discount ratio.
    """
    usage.validate()
    tier = _tier_for(price, usage.input_tokens)
    input_price, output_price = price.input, price.output
    cache_read = price.cache_read
    cache_write = price.cache_write
    if tier is not None and tier.mode is TierMode.WHOLE_REQUEST:
        input_price, output_price = tier.input, tier.output
        cache_read, cache_write = tier.cache_read, tier.cache_write
    reasoning_price = output_price
    if price.reasoning_output is not None and (tier is None or tier.mode is TierMode.MARGINAL):
        reasoning_price = price.reasoning_output
    if batch:
        input_price = _batch(input_price, price.input, price.batch_input)
        output_price = _batch(output_price, price.output, price.batch_output)
        reasoning_price = _batch(reasoning_price, price.output, price.batch_output)

    uncached = (
        usage.input_tokens - usage.cache_read_input_tokens - usage.cache_creation_input_tokens
    )
    lines: list[CostLine] = []
    if tier is not None and tier.mode is TierMode.MARGINAL:
        above = min(uncached, usage.input_tokens - tier.above_input_tokens)
        tier_input = _batch(tier.input, price.input, price.batch_input) if batch else tier.input
        lines.append(_line("input", uncached - above, input_price))
        lines.append(_line("input_above_tier", above, tier_input))
    else:
        lines.append(_line("input", uncached, input_price))
    lines.append(_line("cache_read", usage.cache_read_input_tokens, _or(cache_read, input_price)))
    lines.append(
        _line("cache_write", usage.cache_creation_input_tokens, _or(cache_write, input_price))
    )
    lines.append(_line("output", usage.output_tokens - usage.reasoning_output_tokens, output_price))
    lines.append(_line("reasoning_output", usage.reasoning_output_tokens, reasoning_price))
    charged = tuple(line for line in lines if line.tokens)
    total = sum((line.cost for line in charged), Decimal(0))
    return Cost(micros=to_micros(total), lines=charged, price=price, tier=tier)


def _tier_for(price: Price, input_tokens: int) -> Tier | None:
    crossed = [tier for tier in price.tiers if input_tokens > tier.above_input_tokens]
    return crossed[-1] if crossed else None


def _batch(current: Decimal, base: Decimal, batch: Decimal | None) -> Decimal:
    """``current`` with the entry's batch discount (batch / base) applied."""
    if batch is None:
        return current
    if current == base or not base:
        return batch
    return current * batch / base


def _or(value: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if value is None else value


def _line(component: str, tokens: int, price_per_mtok: Decimal) -> CostLine:
    return CostLine(component, tokens, price_per_mtok, tokens * price_per_mtok / MILLION)


def normalise_model(model: str) -> str:
    """Case-folded, trimmed model name: the key every lookup uses."""
    return model.strip().lower()


def model_candidates(model: str) -> list[str]:
    """Names to try for ``model``, most specific first.

    Each routing prefix is kept first and dropped last (``azure/eu/``, ``eu/``, none),
    so a platform or region entry (``azure/eu/gpt-4o``) wins over the model's own.
    Under each prefix the model id is tried as given, without its dated snapshot
    suffix, as a Bedrock inference profile without its version
    (``us.anthropic.claude-sonnet-4-5-20250929-v1:0`` -> ``us.anthropic.claude-sonnet-4-5``),
    reduced to the model name (``claude-sonnet-4-5``), and last without a version
    label (``-latest``, ``@default``, ``-001``, ``-v1:0``), so an alias or snapshot
    entry of its own (``chatgpt-4o-latest``) wins over the model it names a release of.
    """
    name = normalise_model(model)
    path, _, model_id = name.rpartition("/")
    segments = path.split("/") if path else []
    prefixes = ["/".join(segments[start:]) + "/" for start in range(len(segments))]
    qualified, bare = _model_id_forms(model_id)
    candidates: list[str] = []
    for prefix in [*prefixes, ""]:
        for form in (*qualified, *bare):
            candidate = prefix + form
            if candidate not in candidates:
                candidates.append(candidate)
    return candidates


def _model_id_forms(model_id: str) -> tuple[list[str], list[str]]:
    """Forms of ``model_id`` (no routing prefix): those naming a Bedrock inference
    profile (vendor and region kept), then those naming the model alone."""
    qualified: list[str] = []
    if bedrock := _BEDROCK_ID.match(model_id):
        profile = model_id[: bedrock.end(1)]
        qualified = [model_id, profile, _DATE_SUFFIX.sub("", profile)]
        model_id = bedrock.group(1)
    name = _AZURE_GPT35.sub("gpt-3.5", model_id)
    unversioned = _VERSION_SUFFIX.sub("", name)
    bare = [name, _DATE_SUFFIX.sub("", name), unversioned, _DATE_SUFFIX.sub("", unversioned)]
    return list(dict.fromkeys(qualified)), [form for form in dict.fromkeys(bare) if form]


@dataclass
class PriceTable:
    """Price entries by model; answers "which price was in force at time t"."""

    _by_model: dict[str, list[Price]] = field(default_factory=dict)
    _alias: dict[str, str] = field(default_factory=dict)
    _canonical: dict[str, str | None] = field(default_factory=dict)
    _family: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, *layers: Iterable[Price]) -> PriceTable:
        """Build a table; a later layer's entry replaces one with the same model and date."""
        keyed: dict[tuple[str, date], Price] = {}
        for layer in layers:
            for price in layer:
                keyed[(normalise_model(price.model), price.effective_from)] = price
        table = cls()
        for (model, _), price in sorted(keyed.items()):
            table._by_model.setdefault(model, []).append(price)
            for alias in price.aliases:
                table._alias[normalise_model(alias)] = model
        return table

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_model.values())

    def entries(self) -> list[Price]:
        """Every entry, ordered by model then effective_from."""
        return [price for model in sorted(self._by_model) for price in self._by_model[model]]

    def canonical(self, model: str) -> str | None:
        """The table's name for ``model`` (through aliases and snapshot suffixes).

        Memoised (CheckBudget asks for every call), in a bounded map because model
        names come from callers.
        """
        if model in self._canonical:
            return self._canonical[model]
        found = None
        for candidate in model_candidates(model):
            if candidate in self._by_model:
                found = candidate
                break
            if candidate in self._alias:
                found = self._alias[candidate]
                break
        if len(self._canonical) >= _CANONICAL_CACHE_SIZE:
            self._canonical.clear()
        self._canonical[model] = found
        return found

    def family(self, model: str) -> str | None:
        """The table's name for the model ``model`` is a deployment of.

        A platform or region entry (``azure/eu/gpt-4o``, ``us.anthropic.claude-sonnet-4-5``)
        prices its own calls but folds into the model's entry here, so budgets and
        reconciliation see one model whichever platform served it.
        """
        if model in self._family:
            return self._family[model]
        found = canonical = self.canonical(model)
        for candidate in _model_id_forms(canonical.rpartition("/")[2])[1] if canonical else ():
            if candidate in self._by_model or candidate in self._alias:
                found = self._alias.get(candidate, candidate)
                break
        if len(self._family) >= _CANONICAL_CACHE_SIZE:
            self._family.clear()
        self._family[model] = found
        return found

    def history(self, model: str) -> list[Price]:
        """All entries of ``model`` by effective_from; empty when unknown."""
        canonical = self.canonical(model)
        return list(self._by_model.get(canonical, [])) if canonical else []

    def price_at(self, model: str, at: datetime) -> Price | None:
        """The entry in force at ``at``: the latest one effective on or before its UTC day.

        A call dated before a model's first entry gets that first entry: the date is
        when the table first recorded the price, and an old known price is a better
        estimate than no price at all.
        """
        entries = self.history(model)
        if not entries:
            return None
        day = at.astimezone(UTC).date()
        index = bisect.bisect_right([price.effective_from for price in entries], day)
        return entries[max(index - 1, 0)]


class PriceFileError(ValueError):
    """The price file is malformed; ``line`` is 1-based (0 when unknown)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.line = line


# Field names of an entry: the same vocabulary as the PriceEntry proto message.
_PRICE_FIELDS = {
    "input_per_mtok": "input",
    "output_per_mtok": "output",
    "cache_read_per_mtok": "cache_read",
    "cache_write_per_mtok": "cache_write",
    "batch_input_per_mtok": "batch_input",
    "batch_output_per_mtok": "batch_output",
    "reasoning_output_per_mtok": "reasoning_output",
}
_ENTRY_KEYS = {"model", "provider", "effective_from", "tiers", "source", "aliases", *_PRICE_FIELDS}
_TIER_KEYS = {"above_input_tokens", "mode", *list(_PRICE_FIELDS)[:4]}


# $1 per token, far above any model's price; with token counts capped at 10^12
# per record it keeps every cost inside the int64 micro-USD of Money and the ledger.
MAX_PRICE_PER_MTOK = Decimal(1_000_000)


def parse_decimal(value: str, field_name: str, *, required: bool) -> Decimal | None:
    """A non-negative decimal price; empty means "not set" unless required."""
    text = value.strip()
    if not text:
        if required:
            raise InvalidArgument(field_name, "is required")
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidArgument(field_name, f"{value!r} is not a decimal number") from None
    if not number.is_finite() or number < 0:
        raise InvalidArgument(field_name, f"{value!r} must be a non-negative finite number")
    if number > MAX_PRICE_PER_MTOK:
        raise InvalidArgument(
            field_name, f"{value!r} exceeds {MAX_PRICE_PER_MTOK} USD per 1M tokens"
        )
    return number


def parse_day(value: str, field_name: str) -> date:
    """A ``YYYY-MM-DD`` day."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidArgument(field_name, f"{value!r} is not a YYYY-MM-DD date") from None


def price_from_fields(fields: Mapping[str, Any], prefix: str = "") -> Price:
    """Build a Price from PriceEntry-named fields (strings); errors name ``prefix.field``.

    Used for both the price file and the UpsertPrices RPC, so one set of rules holds.
    """
    model = str(fields.get("model", "")).strip()
    if not model:
        raise InvalidArgument(f"{prefix}model", "is required")
    if len(model) > MAX_MODEL_CHARS:
        raise InvalidArgument(f"{prefix}model", f"at most {MAX_MODEL_CHARS} characters")
    if not model.isprintable():
        raise InvalidArgument(f"{prefix}model", "must not contain control characters")
    values = {
        attr: parse_decimal(
            str(fields.get(name, "")), prefix + name, required=attr in ("input", "output")
        )
        for name, attr in _PRICE_FIELDS.items()
    }
    tiers = tuple(
        _tier_from_fields(tier, f"{prefix}tiers[{index}].")
        for index, tier in enumerate(fields.get("tiers") or ())
    )
    thresholds = [tier.above_input_tokens for tier in tiers]
    if thresholds != sorted(set(thresholds)):
        raise InvalidArgument(f"{prefix}tiers", "thresholds must be distinct and ascending")
    aliases = fields.get("aliases") or ()
    return Price(
        model=model,
        provider=str(fields.get("provider", "")).strip(),
        effective_from=parse_day(str(fields.get("effective_from", "")), prefix + "effective_from"),
        tiers=tiers,
        source=str(fields.get("source", "")).strip(),
        aliases=tuple(str(alias).strip() for alias in aliases if str(alias).strip()),
        **values,  # type: ignore[arg-type]
    )


def _tier_from_fields(fields: Mapping[str, Any], prefix: str) -> Tier:
    raw_threshold = str(fields.get("above_input_tokens", "")).strip()
    try:
        threshold = int(raw_threshold)
    except ValueError:
        raise InvalidArgument(f"{prefix}above_input_tokens", "must be an integer") from None
    if threshold <= 0:
        raise InvalidArgument(f"{prefix}above_input_tokens", "must be positive")
    raw_mode = str(fields.get("mode", "")).strip().lower()
    try:
        mode = TierMode(raw_mode)
    except ValueError:
        raise InvalidArgument(f"{prefix}mode", "must be whole_request or marginal") from None

    def price(name: str, required: bool) -> Decimal | None:
        return parse_decimal(str(fields.get(name, "")), prefix + name, required=required)

    return Tier(
        above_input_tokens=threshold,
        mode=mode,
        input=price("input_per_mtok", True) or Decimal(0),
        output=price("output_per_mtok", True) or Decimal(0),
        cache_read=price("cache_read_per_mtok", False),
        cache_write=price("cache_write_per_mtok", False),
    )


def price_to_fields(price: Price) -> dict[str, Any]:
    """The PriceEntry-named fields of ``price`` (decimal strings; empty when unset)."""

    def text(value: Decimal | None) -> str:
        return "" if value is None else str(value)

    fields: dict[str, Any] = {
        "model": price.model,
        "provider": price.provider,
        "effective_from": price.effective_from.isoformat(),
        "source": price.source,
        "aliases": list(price.aliases),
        "tiers": [
            {
                "above_input_tokens": str(tier.above_input_tokens),
                "mode": tier.mode.value,
                "input_per_mtok": text(tier.input),
                "output_per_mtok": text(tier.output),
                "cache_read_per_mtok": text(tier.cache_read),
                "cache_write_per_mtok": text(tier.cache_write),
            }
            for tier in price.tiers
        ],
    }
    for name, attr in _PRICE_FIELDS.items():
        fields[name] = text(getattr(price, attr))
    return fields


def load_price_file(path: Path) -> list[Price]:
    """Parse the YAML price file; any error raises PriceFileError naming its line.

    The file is read with YAML's BaseLoader so every scalar stays a string: a price
    written as 2.50 is parsed as Decimal("2.50"), never through a float.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceFileError(name, 0, f"cannot read: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PriceFileError(name, mark.line + 1 if mark else 0, str(exc.problem)) from None
    entries_node = _mapping(root, name).get("prices") if root is not None else None
    if not isinstance(entries_node, yaml.SequenceNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise PriceFileError(name, line, "expected a top-level 'prices:' list")
    prices: list[Price] = []
    seen: dict[tuple[str, date], int] = {}
    for node in entries_node.value:
        line = node.start_mark.line + 1
        fields = _mapping(node, name)
        unknown = sorted(set(fields) - _ENTRY_KEYS)
        if unknown:
            raise PriceFileError(
                name, fields[unknown[0]].start_mark.line + 1, f"unknown key {unknown[0]!r}"
            )
        try:
            price = price_from_fields(_plain(fields, name))
        except InvalidArgument as exc:
            raise PriceFileError(name, _line_of(node, exc.field), exc.message) from None
        identity = (normalise_model(price.model), price.effective_from)
        if identity in seen:
            raise PriceFileError(
                name,
                line,
                f"duplicate entry for {price.model} {price.effective_from} "
                f"(first at line {seen[identity]})",
            )
        seen[identity] = line
        prices.append(price)
    return prices


def _line_of(node: yaml.Node, field_path: str) -> int:
    """1-based line of ``tiers[1].mode``-style ``field_path`` inside an entry node."""
    for part in re.findall(r"[a-z_]+|\[\d+\]", field_path):
        if part.startswith("[") and isinstance(node, yaml.SequenceNode):
            index = int(part[1:-1])
            if index < len(node.value):
                node = node.value[index]
        elif isinstance(node, yaml.MappingNode):
            found = [value for key, value in node.value if key.value == part]
            if not found:
                break
            node = found[0]
    return node.start_mark.line + 1


def _mapping(node: yaml.Node, name: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise PriceFileError(name, node.start_mark.line + 1, "expected a mapping")
    return {key.value: value for key, value in node.value}


def _plain(fields: dict[str, yaml.Node], name: str) -> dict[str, Any]:
    """Node tree to plain strings/lists/dicts, checking the shape of tiers and aliases."""
    plain: dict[str, Any] = {}
    for key, node in fields.items():
        if key == "tiers":
            if not isinstance(node, yaml.SequenceNode):
                raise PriceFileError(name, node.start_mark.line + 1, "tiers must be a list")
            tiers = []
            for tier in node.value:
                tier_fields = _mapping(tier, name)
                unknown = sorted(set(tier_fields) - _TIER_KEYS)
                if unknown:
                    raise PriceFileError(
                        name,
                        tier_fields[unknown[0]].start_mark.line + 1,
                        f"unknown tier key {unknown[0]!r}",
                    )
                tiers.append({k: _scalar(v, name) for k, v in tier_fields.items()})
            plain[key] = tiers
        elif key == "aliases":
            if not isinstance(node, yaml.SequenceNode):
                raise PriceFileError(name, node.start_mark.line + 1, "aliases must be a list")
            plain[key] = [_scalar(alias, name) for alias in node.value]
        else:
            plain[key] = _scalar(node, name)
    return plain


def _scalar(node: yaml.Node, name: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise PriceFileError(name, node.start_mark.line + 1, "expected a single value")
    return str(node.value)

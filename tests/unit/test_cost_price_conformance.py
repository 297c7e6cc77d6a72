"""The shipped price table against LiteLLM's published prices (tests/data/litellm_prices.json).

Every id LiteLLM lists that our table resolves must get LiteLLM's price for input, output,
cache read, cache write, batch input/output and each long-context tier, except the few
differences listed in KNOWN_DIFFERENCES with the reason we keep them.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.cost.prices import MILLION, Price, PriceTable, load_price_file
from services.cost.settings import BUNDLED_PRICE_FILE

DATA = json.loads(
    (Path(__file__).parents[1] / "data" / "litellm_prices.json").read_text(encoding="utf-8")
)
TABLE = PriceTable.of(load_price_file(BUNDLED_PRICE_FILE))

# LiteLLM lists a cache-creation price where the provider bills none: OpenAI (also on
# Azure), DeepSeek and Z.ai bill a cache miss as input and report no cache writes, and
# Gemini bills context caching as input plus storage per hour. Our entries leave
# cache_write unset, which charges any cache-write tokens at the input price.
NO_CACHE_WRITE_BILLED = {
    "azure/us/gpt-4o",
    "deepseek-chat",
    "deepseek-flash",
    "deepseek-v3",
    "deepseek-v4-flash",
    "deepseek-v4-flash-vision-exp",
    "deepseek-v4-pro",
    "gemini-2.5-pro",
    "gemini-3-pro-preview",
    "gemini-3.1-pro-preview",
    "glm-4.6",
    "glm-4.7",
    "glm-5",
    "glm-5-code",
    "glm-5.1",
    "glm-5.2",
    "glm-5.3",
    "glm-5.3-flash",
}
KNOWN_DIFFERENCES: dict[str, str] = {
    # Anthropic's pricing page bills Claude Sonnet 4.5 prompts over 200k tokens at
    # 6/22.50 (LiteLLM has this tier for Sonnet 4.5 on Bedrock and Vertex AI, not for
    # these three ids).
    "claude-sonnet-4-5": "tier200000",
    "claude-sonnet-4-5-20250929": "tier200000",
    "azure_ai/claude-sonnet-4-5": "tier200000",
    "bedrock/claude_platform/claude-sonnet-4-5": "tier200000",
    # Not a Bedrock model id: Claude 3.7 Sonnet is 20250219 (20240620 is Claude 3.5
    # Sonnet's date), listed at the GovCloud price. The real id is priced.
    "anthropic.claude-3-7-sonnet-20240620-v1:0": "*",
}

_FIELDS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "batch_input": "input_cost_per_token_batches",
    "batch_output": "output_cost_per_token_batches",
}
_TIER = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")


def per_mtok(row: dict[str, Any], key: str) -> Decimal | None:
    """LiteLLM's per-token price as USD per 1M tokens, exactly (its text, not a float)."""
    return (Decimal(row[key]) * MILLION).normalize() if key in row else None


def _or(value: Decimal | None, fallback: Decimal) -> Decimal:
    return (fallback if value is None else value).normalize()


def differences(price: Price, row: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    """Field -> (ours, LiteLLM's) for every price LiteLLM lists that we charge differently.

    An unset cache price of ours charges the input price, an unset batch price the list
    price; that is what we compare.
    """
    ours = {
        "input": price.input.normalize(),
        "output": price.output.normalize(),
        "cache_read": _or(price.cache_read, price.input),
        "cache_write": _or(price.cache_write, price.input),
        "batch_input": _or(price.batch_input, price.input),
        "batch_output": _or(price.batch_output, price.output),
    }
    found = {}
    for name, key in _FIELDS.items():
        theirs = per_mtok(row, key)
        if theirs is None and name in ("input", "output"):
            theirs = Decimal(0)
        if theirs is not None and ours[name] != theirs:
            found[name] = (ours[name], theirs)
    their_tiers = {int(m.group(1)) * 1000 for key in row if (m := _TIER.match(key))}
    our_tiers = {tier.above_input_tokens: tier for tier in price.tiers}
    for threshold in sorted(their_tiers | set(our_tiers)):
        tier = our_tiers.get(threshold)
        if tier is None or threshold not in their_tiers:
            found[f"tier{threshold}"] = (Decimal(tier is not None), Decimal(tier is None))
            continue
        suffix = f"_above_{threshold // 1000}k_tokens"
        # What LiteLLM does not list for the tier it charges at the base price.
        tier_ours = {
            "input": (tier.input, per_mtok(row, "input_cost_per_token" + suffix)),
            "output": (tier.output, per_mtok(row, "output_cost_per_token" + suffix)),
            "cache_read": (
                _or(tier.cache_read, tier.input),
                per_mtok(row, "cache_read_input_token_cost" + suffix),
            ),
            "cache_write": (
                _or(tier.cache_write, tier.input),
                per_mtok(row, "cache_creation_input_token_cost" + suffix),
            ),
        }
        # A batch call under a tier gets the entry's batch ratio (compute_cost).
        for name, base, batch in (
            ("input", price.input, price.batch_input),
            ("output", price.output, price.batch_output),
        ):
            if batch is not None and base:
                tier_ours[f"{name}_batch"] = (
                    tier_ours[name][0] * batch / base,
                    per_mtok(row, f"{name}_cost_per_token{suffix}_batches"),
                )
        for name, (mine, theirs) in tier_ours.items():
            if theirs is not None and mine.normalize() != theirs:
                found[f"tier{threshold}.{name}"] = (mine.normalize(), theirs)
    return found


def _known(model_id: str, field: str) -> bool:
    known = KNOWN_DIFFERENCES.get(model_id)
    if known in ("*", field):
        return True
    canonical = TABLE.canonical(model_id)
    return "cache_write" in field and canonical in NO_CACHE_WRITE_BILLED


@pytest.mark.parametrize("model_id", sorted(DATA["prices"]))
def test_litellm_id_gets_litellm_price(model_id: str) -> None:
    price = TABLE.history(model_id)[-1:]
    assert price, f"{model_id} no longer resolves"
    found = {
        field: values
        for field, values in differences(price[0], DATA["prices"][model_id]).items()
        if not _known(model_id, field)
    }
    assert not found, f"{model_id} -> {TABLE.canonical(model_id)}: (ours, LiteLLM's) {found}"


def test_known_differences_are_still_differences() -> None:
    for model_id in KNOWN_DIFFERENCES:
        price = TABLE.history(model_id)[-1]
        assert differences(price, DATA["prices"][model_id]), model_id
    for model in NO_CACHE_WRITE_BILLED:
        assert TABLE.history(model)[-1].cache_write is None, model


# What a model id says beyond the model: routing path, Bedrock region and vendor,
# release labels and dated snapshots (written apart from prices.py on purpose).
_BEDROCK_PREFIX = re.compile(
    r"^(?:[a-z-]+\.)?(?:anthropic|meta|amazon|cohere|mistral|ai21|deepseek|openai|xai)\."
)
_RELEASE = re.compile(
    r"(?:-v\d+(?::\d+)?|@[a-z0-9._-]+|-latest|-\d{3}|-\d{8}|-\d{4}-\d{2}-\d{2})+$"
)


def model_core(name: str) -> str:
    last = name.lower().rpartition("/")[2]
    last = _RELEASE.sub("", _BEDROCK_PREFIX.sub("", last))
    return re.sub(r"^gpt-35(?=-|$)", "gpt-3.5", last)


def test_no_litellm_id_resolves_to_another_model() -> None:
    wrong = []
    for model_id in [*DATA["prices"], *DATA["unpriced_ids"], *DATA["other_ids"]]:
        canonical = TABLE.canonical(model_id)
        if canonical is None:
            continue
        entry = TABLE.history(model_id)[-1]
        names = {model_core(entry.model), *(model_core(alias) for alias in entry.aliases)}
        if model_core(model_id) not in names:
            wrong.append(f"{model_id} -> {canonical}")
    assert not wrong


def test_ids_of_the_priced_providers_resolve_only_with_their_litellm_price_at_hand() -> None:
    # An id that starts resolving after a table change must be checked against LiteLLM:
    # regenerate the data (tests/data/make_litellm_prices.py) so it moves to "prices".
    assert [model_id for model_id in DATA["unpriced_ids"] if TABLE.canonical(model_id)] == []

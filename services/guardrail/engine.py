"""The guardrail engine: policies applied to texts. Pure Python, no gRPC.

GuardrailService wraps it; LogSink uses it as a library (:meth:`GuardrailEngine.redact`)
to mask texts before they are stored.

How a check runs (seed design): the policy's detectors run in order on a normalised
copy of the text. A finding below its detector's threshold, of a type the detector is
not configured for, or on the allow-list is dropped. The first detector that yields a
BLOCK finding ends the check: nothing after it runs and no text is returned (so on
input, injection detection runs before PII redaction and a blocked prompt is not
processed further). Otherwise every REDACT finding is applied. Overlapping entities
are resolved before redaction, by priority (secrets, cards, IBANs, e-mail, SSN, IP,
phone) and then length, so an entity is replaced whole or not at all and a card
number never comes out as half a phone number. All offsets are code points of the
original text.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.guardrail.injection import DETECTOR as INJECTION
from services.guardrail.injection import InjectionDetector, noisy_or
from services.guardrail.invisible import DETECTOR as INVISIBLE
from services.guardrail.invisible import InvisibleTextDetector
from services.guardrail.model import Action, Candidate, Finding, GuardResult, RedactionStyle
from services.guardrail.normalize import Normalized, defuse, is_invisible, normalize
from services.guardrail.pii import PII, PRIORITY, SECRETS, EntityDetector
from services.guardrail.policy import DetectorConfig, Policy, PolicySet, load_policies
from services.guardrail.pseudonym import Pseudonymizer
from services.guardrail.semantic import (
    Encoder,
    EncoderLoader,
    SemanticDetector,
    load_contrast,
    load_corpus,
)

DEFAULT_MAX_TEXT_LENGTH = 100_000
# Findings listed in one result (and in one stream response). A text made of thousands
# of entities still gets its full verdict and redaction; only the list is bounded, its
# last entry summarising what was left out.
MAX_FINDINGS = 1000
TRUNCATED_DETECTOR = "guardrail"
TRUNCATED_TYPE = "FINDINGS_TRUNCATED"
_INVISIBLE_PRIORITY = 10
_KEEP_LAST_DIGITS = frozenset({"CREDIT_CARD", "PHONE"})


def _priority(candidate: Candidate) -> int:
    return PRIORITY.get(candidate.type, _INVISIBLE_PRIORITY)


@dataclass(frozen=True)
class _Hit:
    """A candidate that passed its detector's filters, with the policy's verdict on it."""

    candidate: Candidate
    config: DetectorConfig

    @property
    def finding(self) -> Finding:
        c = self.candidate
        return Finding(c.detector, c.type, c.start, c.end, c.score, self.config.action, c.reason)


def validate_text(text: str, max_length: int, field: str = "text") -> None:
    """Empty, oversize and unencodable (lone surrogate) texts are refused."""
    if not text:
        raise InvalidArgument(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidArgument(
            field, f"has {len(text)} code points; the policy allows at most {max_length}"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(field, "is not valid UTF-8 (contains a lone surrogate)") from None


class GuardrailEngine:
    """Applies named policies to prompts and answers; safe to share between threads."""

    def __init__(
        self,
        policies: PolicySet,
        *,
        pseudonym_secret: bytes,
        encoder_loader: EncoderLoader | None = None,
    ) -> None:
        self._policies = policies
        self._pseudonyms = Pseudonymizer(pseudonym_secret)
        self._injection = InjectionDetector()
        self._invisible = InvisibleTextDetector()
        self._entities = {PII: EntityDetector(PII), SECRETS: EntityDetector(SECRETS)}
        self._encoder_loader = encoder_loader or _default_encoder_loader
        self._semantic: SemanticDetector | None = None
        self._semantic_lock = threading.Lock()

    @classmethod
    def from_policy_file(
        cls,
        path: Path | None = None,
        *,
        pseudonym_secret: bytes,
        encoder_loader: EncoderLoader | None = None,
        max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
    ) -> GuardrailEngine:
        """Load policies from ``path`` (None: the shipped ``policies/default.yaml``)."""
        return cls(
            load_policies(path, max_text_length),
            pseudonym_secret=pseudonym_secret,
            encoder_loader=encoder_loader,
        )

    @property
    def default_policy(self) -> str:
        """Name of the policy used when a request names none."""
        return self._policies.default

    def policies(self) -> list[Policy]:
        """Every loaded policy, ordered by name."""
        return [self._policies.policies[name] for name in sorted(self._policies.policies)]

    def policy(self, name: str = "") -> Policy:
        """The named policy ("" for the default); NotFound if it is not loaded."""
        policy = self._policies.policies.get(name or self._policies.default)
        if policy is None:
            raise NotFound(f"no policy named {name!r}", {"policy": name})
        return policy

    @property
    def semantic_needed(self) -> bool:
        """Whether some policy enables the embedding tier."""
        return any(p.uses_semantic for p in self._policies.policies.values())

    def load_semantic(self) -> None:
        """Load the model and embed the attack corpus if some policy needs them.

        The server calls this at start-up so that no request pays for it; a library
        user that only redacts (LogSink) never does, and never loads the model.
        """
        if self.semantic_needed:
            self._semantic_detector()

    def _semantic_detector(self) -> SemanticDetector:
        with self._semantic_lock:
            if self._semantic is None:
                self._semantic = SemanticDetector(
                    self._encoder_loader(), load_corpus(), load_contrast()
                )
            return self._semantic

    def check_input(self, text: str, *, tenant: str, policy: str = "") -> GuardResult:
        """Check a prompt with the policy's input detectors."""
        chosen = self.policy(policy)
        return self._check(text, tenant, chosen, chosen.input_detectors)

    def check_output(self, text: str, *, tenant: str, policy: str = "") -> GuardResult:
        """Check a model answer with the policy's output detectors."""
        chosen = self.policy(policy)
        return self._check(text, tenant, chosen, chosen.output_detectors)

    def redact(self, text: str, *, tenant: str, policy: str = "") -> str:
        """Mask every PII and secret the policy's detectors know, whatever their action.

        For storage: never blocks, ignores injection, and accepts any length, so LogSink
        can mask everything it is given before it is written.
        """
        if not text:
            return text
        chosen = self.policy(policy)
        configs: dict[str, DetectorConfig] = {}
        for config in chosen.input_detectors + chosen.output_detectors:
            if config.name in (PII, SECRETS) and config.name not in configs:
                configs[config.name] = DetectorConfig(
                    config.name,
                    Action.REDACT,
                    config.threshold,
                    config.entity_types,
                    config.allow_list,
                    config.redaction_style,
                )
        norm = normalize(text)
        hits = [hit for config in configs.values() for hit in self._detect(text, norm, config)]
        return self.apply_redactions(text, resolve_overlaps(hits), tenant)

    def stream(self, *, tenant: str, policy: str = "") -> OutputStreamGuard:
        """A guard for one streamed answer, checked with the policy's output detectors."""
        return OutputStreamGuard(self, self.policy(policy), tenant)

    def _check(
        self, text: str, tenant: str, policy: Policy, detectors: tuple[DetectorConfig, ...]
    ) -> GuardResult:
        validate_text(text, policy.max_text_length)
        hits, blocked = self.evaluate(text, normalize(text), detectors, semantic=True)
        findings = cap_findings(sorted((h.finding for h in hits), key=lambda f: (f.start, f.end)))
        if blocked:
            return GuardResult(Action.BLOCK, findings, "", policy.name, policy.version)
        action = max((f.action for f in findings), default=Action.PASS)
        safe_text = self.apply_redactions(text, hits, tenant)
        return GuardResult(action, findings, safe_text, policy.name, policy.version)

    def evaluate(
        self,
        text: str,
        norm: Normalized,
        detectors: Iterable[DetectorConfig],
        *,
        semantic: bool,
    ) -> tuple[list[_Hit], bool]:
        """Run detectors in order until one blocks; returns the kept hits and whether blocked.

        Overlapping entity hits are already resolved in the result.
        """
        hits: list[_Hit] = []
        for config in detectors:
            found = self._detect(text, norm, config, semantic=semantic)
            hits.extend(found)
            if config.action is Action.BLOCK and found:
                return resolve_overlaps(hits), True
        return resolve_overlaps(hits), False

    def _detect(
        self, text: str, norm: Normalized, config: DetectorConfig, *, semantic: bool = False
    ) -> list[_Hit]:
        if config.name == INJECTION:
            candidates = self._injection.detect(norm)
            if semantic and config.semantic:
                semantic_candidates = self._semantic_detector().detect(norm)
                candidates = _combine_injection(candidates + semantic_candidates)
        elif config.name == INVISIBLE:
            candidates = self._invisible.detect(text, norm)
        else:
            candidates = self._entities[config.name].detect(norm)
        return [
            _Hit(c, config)
            for c in candidates
            if c.score >= config.threshold
            and (not config.entity_types or c.type in config.entity_types)
            and not (config.allow_list and c.value.strip().casefold() in config.allow_list)
        ]

    def apply_redactions(self, text: str, hits: list[_Hit], tenant: str) -> str:
        """``text`` with every REDACT hit replaced (hits must not overlap)."""
        redactions = sorted(
            (h for h in hits if h.config.action is Action.REDACT),
            key=lambda h: h.candidate.start,
        )
        pieces: list[str] = []
        position = 0
        for hit in redactions:
            c = hit.candidate
            if c.start < position:
                continue  # Overlaps were resolved; this guards the invariant anyway.
            pieces.append(text[position : c.start])
            pieces.append(self.replacement(text[c.start : c.end], c, hit.config, tenant))
            position = c.end
        pieces.append(text[position:])
        return "".join(pieces)

    def replacement(
        self, original: str, candidate: Candidate, config: DetectorConfig, tenant: str
    ) -> str:
        """What a redacted span becomes under the detector's redaction style."""
        if candidate.detector == INVISIBLE:
            # Invisible characters go, look-alike letters become the letter they imitate.
            return defuse(original)
        style = config.redaction_style
        if style is RedactionStyle.PSEUDONYM:
            value = candidate.value or original
            return self._pseudonyms.token(tenant, candidate.type, value)
        if style is RedactionStyle.MASK:
            keep = 0
            if candidate.type in _KEEP_LAST_DIGITS:
                keep = _index_of_last_digits(original, 4)
            return "*" * keep + original[keep:] if keep else "*" * len(original)
        return f"[{candidate.type}_REDACTED]"


def cap_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """At most ``MAX_FINDINGS``: the first ones in order, then one summarising the rest.

    The summary spans the findings it replaces and carries their strongest score and
    action, so the list alone still tells a reader the worst that was found.
    """
    if len(findings) <= MAX_FINDINGS:
        return tuple(findings)
    kept, rest = findings[: MAX_FINDINGS - 1], findings[MAX_FINDINGS - 1 :]
    summary = Finding(
        TRUNCATED_DETECTOR,
        TRUNCATED_TYPE,
        rest[0].start,
        max(f.end for f in rest),
        max(f.score for f in rest),
        max(f.action for f in rest),
        f"{len(rest)} more findings not listed (at most {MAX_FINDINGS} per response)",
    )
    return (*kept, summary)


def _index_of_last_digits(value: str, count: int) -> int:
    """Index from which ``value`` holds only its last ``count`` digits (0 if fewer)."""
    seen = 0
    for index in range(len(value) - 1, -1, -1):
        if value[index].isdigit():
            seen += 1
            if seen == count:
                return index
    return 0


def _combine_injection(candidates: list[Candidate]) -> list[Candidate]:
    """Both tiers' evidence combined into one text-level score on every finding."""
    if not candidates:
        return candidates
    tiers = {c.type == "SEMANTIC_SIMILARITY": c.score for c in candidates}
    score = noisy_or(list(tiers.values()))
    return [
        Candidate(c.detector, c.type, c.start, c.end, score, c.reason, c.value) for c in candidates
    ]


def resolve_overlaps(hits: list[_Hit]) -> list[_Hit]:
    """Drop entity hits that overlap a stronger one (priority, then length, then position).

    Injection findings describe the text rather than a span to replace, so they never
    compete with entities.
    """
    entities = [h for h in hits if h.candidate.detector != INJECTION]
    others = [h for h in hits if h.candidate.detector == INJECTION]
    ranked = sorted(
        entities,
        key=lambda h: (
            -_priority(h.candidate),
            -(h.candidate.end - h.candidate.start),
            h.candidate.start,
        ),
    )
    kept: list[_Hit] = []
    # One byte per code point marks what is taken: linear in the text, where comparing
    # every pair would be quadratic in the (attacker-controlled) number of hits.
    taken = bytearray(max((h.candidate.end for h in entities), default=0))
    for hit in ranked:
        c = hit.candidate
        if taken.find(1, c.start, c.end) == -1:
            taken[c.start : c.end] = b"\x01" * (c.end - c.start)
            kept.append(hit)
    return others + kept


@dataclass(frozen=True)
class StreamStep:
    """What the streaming guard decided after a chunk (or at the end)."""

    release_text: str
    """Text now safe to show, continuing what was released before."""
    findings: tuple[Finding, ...]
    """New findings; offsets refer to the whole answer received so far."""
    action: Action
    """BLOCK once blocked; otherwise the strongest action so far."""
    held_back: int
    """Code points received but not yet released."""
    blocked: bool


# Characters that can continue an entity across a chunk boundary.
_CONTEXT_CHARS = 256
_MAX_HOLD = 16_384
_GROUP_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+()-.")


class OutputStreamGuard:
    """Checks a streamed answer chunk by chunk, releasing only text that is final.

    After each chunk it releases everything except a tail that could still become
    part of a match: the trailing token (an e-mail, key or URL still being written),
    digit or IBAN groups that a following chunk could extend ("4111 1111 " ...), an
    unterminated private-key block, and any finding that touches the end. Detection
    runs on the unreleased text plus some released context, so a phrase split across
    chunks is still seen. A BLOCK finding stops the stream: nothing more is released.
    The embedding tier does not run per chunk; streamed output is pattern-checked.
    """

    def __init__(self, engine: GuardrailEngine, policy: Policy, tenant: str) -> None:
        self._engine = engine
        self.policy = policy
        self._tenant = tenant
        self._received: list[str] = []
        self._text = ""
        self._released = 0
        self._reported: set[tuple[str, str, int, int]] = set()
        self._action = Action.PASS
        self._blocked = False
        self._finished = False
        self._lock = threading.Lock()

    def feed(self, chunk: str) -> StreamStep:
        """Add the next chunk; returns the text that may be shown now."""
        with self._lock:
            self._accept(chunk)
            return self._step(final=False)

    def finish(self, chunk: str = "") -> StreamStep:
        """Add the last chunk (if any); the answer is complete: release (or block) the rest."""
        with self._lock:
            self._accept(chunk)
            self._finished = True
            return self._step(final=True)

    def _accept(self, chunk: str) -> None:
        if self._finished:
            raise FailedPrecondition("the stream has already finished")
        if self._blocked:
            raise FailedPrecondition("the stream was blocked; no more text is accepted")
        if chunk:
            try:
                chunk.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidArgument("chunk", "is not valid UTF-8 (lone surrogate)") from None
            if len(self._text) + len(chunk) > self.policy.max_text_length:
                raise InvalidArgument(
                    "chunk",
                    f"the answer exceeds the policy's {self.policy.max_text_length} code points",
                )
            self._text += chunk

    def _step(self, *, final: bool) -> StreamStep:
        text = self._text
        window_start = max(0, self._released - _CONTEXT_CHARS)
        window = text[window_start:]
        hits, blocked = self._engine.evaluate(
            window, normalize(window), self.policy.output_detectors, semantic=False
        )
        shifted = [_shift(h, window_start) for h in hits]
        hold = len(text) if final else self._hold_point(text, shifted)
        block_is_final = any(
            h.config.action is Action.BLOCK and h.candidate.end <= hold for h in shifted
        )
        if blocked and not block_is_final:
            # The blocking match may still grow, and the detectors after it did not run:
            # release nothing until it is settled.
            hold = self._released
        new_findings = []
        for hit in shifted:
            c = hit.candidate
            key = (c.detector, c.type, c.start, c.end)
            if key in self._reported or (c.end > hold and not final):
                continue
            self._reported.add(key)
            new_findings.append(hit.finding)
        if blocked and block_is_final:
            self._blocked = True
            self._action = Action.BLOCK
            return StreamStep(
                "", cap_findings(new_findings), Action.BLOCK, len(text) - self._released, True
            )
        # A match that began in text already released (possible only when it started with
        # characters no entity usually has) still has its unreleased rest redacted.
        release_hits = [
            _clip(h, self._released)
            for h in shifted
            if h.candidate.end > self._released and h.candidate.end <= hold
        ]
        segment = text[self._released : hold]
        local = [_shift(h, -self._released) for h in release_hits]
        released = self._engine.apply_redactions(segment, local, self._tenant)
        self._released = hold
        for finding in new_findings:
            self._action = max(self._action, finding.action)
        return StreamStep(
            released, cap_findings(new_findings), self._action, len(text) - self._released, False
        )

    def _hold_point(self, text: str, hits: list[_Hit]) -> int:
        """Where the tail that could still become (part of) a match begins."""
        end = len(text)
        hold = end
        # The trailing token, if the text does not end in whitespace.
        while hold > self._released and _entity_char(text[hold - 1]):
            hold -= 1
        # Digit/IBAN groups separated by single spaces or dashes that may continue.
        while hold - 1 > self._released and text[hold - 1] in " -":
            group_end = hold - 1
            group_start = group_end
            while group_start > self._released and text[group_start - 1].upper() in _GROUP_CHARS:
                group_start -= 1
            group = text[group_start:group_end]
            if not group or len(group) > 8 or not any(ch.isdigit() for ch in group):
                break
            hold = group_start
        begin = text.rfind("-----BEGIN", self._released)
        if (
            begin != -1
            and "PRIVATE KEY" in text[begin : begin + 64]
            and text.find("-----END", begin) == -1
        ):
            hold = min(hold, begin)
        for hit in hits:
            c = hit.candidate
            if c.detector != INJECTION and (c.start < hold < c.end or c.end >= end):
                hold = min(hold, max(c.start, self._released))
        return max(self._released, hold, end - _MAX_HOLD)


def _entity_char(char: str) -> bool:
    """Whether ``char`` can be part of an entity (ASCII, accented Latin, fullwidth forms,
    invisible characters): text in scripts without spaces (CJK, Thai) must not be held
    back as one endless token."""
    if char.isascii():
        return not char.isspace()
    if is_invisible(char) or (ord(char) < 0x250 and char.isalnum()):
        return True
    folded = unicodedata.normalize("NFKC", char)
    return folded.isascii() and (folded.isalnum() or folded in "@._%+-:/=")


def _clip(hit: _Hit, start: int) -> _Hit:
    c = hit.candidate
    if c.start >= start:
        return hit
    clipped = Candidate(c.detector, c.type, start, c.end, c.score, c.reason, c.value)
    return _Hit(clipped, hit.config)


def _shift(hit: _Hit, offset: int) -> _Hit:
    c = hit.candidate
    moved = Candidate(
        c.detector, c.type, c.start + offset, c.end + offset, c.score, c.reason, c.value
    )
    return _Hit(moved, hit.config)


def _default_encoder_loader() -> Encoder:
    from services.common.embeddings import get_encoder

    return get_encoder("cpu")

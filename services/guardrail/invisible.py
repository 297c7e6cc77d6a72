"""Invisible-text smuggling: characters that render as nothing but carry meaning.

* Unicode tag characters (U+E0000-E007F) spell hidden ASCII that models read and
  people do not ("ASCII smuggling").
* Bidi controls reorder what a reviewer sees ("Trojan Source").
* Zero-width characters split words to slip past filters, or encode bits.
* Runs of variation selectors encode bytes after a visible character.
* Look-alike letters from another script inside a Latin word (found by
  normalisation) disguise a word from filters.

Legitimate uses stay quiet: a zero-width joiner inside an emoji sequence or an Indic
word, one variation selector after an emoji, a byte-order mark at the start, and words
in one script however exotic their letters (Turkish dotless i, "ß", "ø", Vietnamese).

A flood of tricks is one attack, not thousands: past ``MAX_FINDINGS_PER_TYPE``
findings of a type, the rest become one summary finding of that type covering them
all, so the text is still flagged (and redacted) whole at a bounded cost.
"""

from __future__ import annotations

import re2

from services.guardrail.model import Candidate
from services.guardrail.normalize import Normalized
from services.guardrail.patterns import options

DETECTOR = "invisible_text"
ENTITY_TYPES = frozenset(
    {"TAG_CHARACTERS", "BIDI_CONTROL", "ZERO_WIDTH", "VARIATION_SELECTORS", "MIXED_SCRIPT"}
)

_ZW = r"[\x{200B}-\x{200D}\x{2060}-\x{2064}\x{FEFF}\x{00AD}\x{180E}\x{034F}]"
_RUNS = re2.compile(
    r"(?P<tag>[\x{E0000}-\x{E007F}]+)"
    r"|(?P<bidi>[\x{202A}-\x{202E}\x{2066}-\x{2069}\x{200E}\x{200F}\x{061C}]+)"
    # Zero-width characters sprinkled between letters ("i\u200bg\u200bn...") are one
    # region, so a 100 KB soup is one finding rather than 50,000. Only ASCII letters
    # join a region: emoji ZWJ sequences must stay separate, quiet single joiners.
    rf"|(?P<zw>{_ZW}+(?:[A-Za-z0-9]{{1,3}}{_ZW}+)*)"
    r"|(?P<vs>[\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}]{2,})",
    options(),
)
_ZERO_WIDTH_RUN_SUSPICIOUS = 3
MAX_FINDINGS_PER_TYPE = 100

# Per kind of trick: (finding type, score, reason).
_KINDS = {
    "tag": ("TAG_CHARACTERS", 1.0, "hidden text in Unicode tag characters"),
    "bidi": ("BIDI_CONTROL", 0.8, "bidirectional control characters"),
    "vs": ("VARIATION_SELECTORS", 0.9, "run of variation selectors"),
    "zw": ("ZERO_WIDTH", 0.9, "zero-width characters inside text"),
    "mixed": ("MIXED_SCRIPT", 0.7, "look-alike letters from another script"),
}


def _word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class InvisibleTextDetector:
    """Finds invisible characters in the original text and homoglyph-disguised words."""

    name = DETECTOR

    def detect(self, original: str, norm: Normalized) -> list[Candidate]:
        """Candidates with original offsets; the matched value is the run itself."""
        if norm.origin is None:
            return []  # ASCII text holds none of these characters.
        spans: dict[str, list[tuple[int, int]]] = {kind: [] for kind in _KINDS}
        for match in _RUNS.finditer(original):
            start, end = match.span()
            kind = match.lastgroup or ""
            if kind == "zw":
                before = original[start - 1 : start]
                after = original[end : end + 1]
                inside_word = _word_char(before) and _word_char(after)
                run = original[start:end]
                # A run holds only zero-width characters and ASCII letters or digits.
                hidden = len(run) - len(run.encode("ascii", "ignore"))
                if not (inside_word or hidden >= _ZERO_WIDTH_RUN_SUSPICIOUS):
                    continue
            spans[kind].append((start, end))
        spans["mixed"] = norm.mixed_script
        found: list[Candidate] = []
        for kind, kind_spans in spans.items():
            type_, score, reason = _KINDS[kind]
            found.extend(
                Candidate(DETECTOR, type_, start, end, score, reason, original[start:end])
                for start, end in kind_spans[:MAX_FINDINGS_PER_TYPE]
            )
            rest = kind_spans[MAX_FINDINGS_PER_TYPE:]
            if rest:
                # Spans of one kind are disjoint and in order: one span covers the rest.
                start, end = rest[0][0], rest[-1][1]
                summary = (
                    f"{reason}: {len(rest)} more in this span "
                    f"(findings capped at {MAX_FINDINGS_PER_TYPE} per type)"
                )
                found.append(
                    Candidate(DETECTOR, type_, start, end, score, summary, original[start:end])
                )
        return found

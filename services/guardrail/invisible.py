"""Invisible-text smuggling: characters that render as nothing but carry meaning.

* Unicode tag characters (U+E0000-E007F) spell hidden ASCII that models read and
  people do not ("ASCII smuggling").
* Bidi controls reorder what a reviewer sees ("Trojan Source").
* Zero-width characters split words to slip past filters, or encode bits.
* Runs of variation selectors encode bytes after a visible character.
* Look-alike letters from another script inside a Latin word (found by
  normalisation) disguise a word from filters.

Legitimate uses stay quiet: a zero-width joiner inside an emoji sequence or an Indic
word, one variation selector after an emoji, a byte-order mark at the start.
"""

from __future__ import annotations

import re2

from services.guardrail.model import Candidate
from services.guardrail.normalize import Normalized, is_invisible
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


def _word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class InvisibleTextDetector:
    """Finds invisible characters in the original text and homoglyph-disguised words."""

    name = DETECTOR

    def detect(self, original: str, norm: Normalized) -> list[Candidate]:
        """Candidates with original offsets; the matched value is the run itself."""
        if norm.origin is None:
            return []  # ASCII text holds none of these characters.
        found: list[Candidate] = []
        for match in _RUNS.finditer(original):
            start, end = match.span()
            kind = match.lastgroup
            if kind == "tag":
                found.append(
                    self._candidate(
                        "TAG_CHARACTERS",
                        start,
                        end,
                        1.0,
                        "hidden text in Unicode tag characters",
                        original,
                    )
                )
            elif kind == "bidi":
                found.append(
                    self._candidate(
                        "BIDI_CONTROL",
                        start,
                        end,
                        0.8,
                        "bidirectional control characters",
                        original,
                    )
                )
            elif kind == "vs":
                found.append(
                    self._candidate(
                        "VARIATION_SELECTORS",
                        start,
                        end,
                        0.9,
                        "run of variation selectors",
                        original,
                    )
                )
            elif kind == "zw":
                before = original[start - 1 : start]
                after = original[end : end + 1]
                inside_word = _word_char(before) and _word_char(after)
                hidden = sum(is_invisible(char) for char in original[start:end])
                if inside_word or hidden >= _ZERO_WIDTH_RUN_SUSPICIOUS:
                    found.append(
                        self._candidate(
                            "ZERO_WIDTH",
                            start,
                            end,
                            0.9,
                            "zero-width characters inside text",
                            original,
                        )
                    )
        found.extend(self._mixed_script(norm, original))
        return found

    def _mixed_script(self, norm: Normalized, original: str) -> list[Candidate]:
        spans: list[list[int]] = []
        for index in norm.folded:
            # Look-alikes in the same word make one finding for the word.
            if spans and (index == spans[-1][1] or original[spans[-1][1] : index].isalpha()):
                spans[-1][1] = index + 1
            else:
                spans.append([index, index + 1])
        return [
            self._candidate(
                "MIXED_SCRIPT", s, e, 0.7, "look-alike letters from another script", original
            )
            for s, e in spans
        ]

    @staticmethod
    def _candidate(
        type_: str, start: int, end: int, score: float, reason: str, original: str
    ) -> Candidate:
        return Candidate(DETECTOR, type_, start, end, score, reason, original[start:end])

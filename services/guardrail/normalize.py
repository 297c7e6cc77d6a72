# This module is about look-alike characters, so it has to spell them out.
# ruff: noqa: RUF001, RUF002
"""Text normalisation in front of every detector, with a map back to original offsets.

Attackers hide text from pattern matchers with look-alike characters (fullwidth or
mathematical letters, Cyrillic "а" inside a Latin word), invisible characters between
letters, and diacritics. Detectors therefore match on a normalised copy:

* NFKD, combining marks dropped, then NFKC (so "ｉｇｎｏｒｅ", "𝐢𝐠𝐧𝐨𝐫𝐞", "ïgnöre" all
  read "ignore");
* format characters (zero-width, bidi controls, Unicode tags, variation selectors)
  removed;
* confusable Cyrillic/Greek letters folded to Latin, but only inside words that also
  contain Latin letters, so genuine Russian or Greek text is left alone.

Findings must report offsets in the caller's original text, so the normalised copy
keeps, for each of its code points, the index of the original code point it came
from. ASCII text (the common case) is already normal and takes an O(1) path.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field

import numpy as np

# Letters that render like a Latin letter in common fonts (Unicode confusables,
# restricted to the Cyrillic and Greek ones seen in real obfuscation).
HOMOGLYPHS: dict[str, str] = {
    **dict(zip("аеорсухіјѕԁһԛԝӏ", "aeopcyxijsdhqwl", strict=True)),
    **dict(zip("АВЕКМНОРСТХІЈЅ", "ABEKMHOPCTXIJS", strict=True)),
    **dict(zip("αοντυικρεχ", "aovtuikpex", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
    "ı": "i",
    "ɡ": "g",
}


def is_invisible(char: str) -> bool:
    """Format characters and variation selectors: they render as nothing."""
    code = ord(char)
    return (
        unicodedata.category(char) == "Cf"
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or code == 0x034F
    )


@functools.lru_cache(maxsize=8192)
def _fold(char: str) -> str:
    """One non-ASCII code point in normal form ("" for invisible ones)."""
    if is_invisible(char):
        return ""
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", stripped or decomposed)


@dataclass(frozen=True)
class Normalized:
    """The normalised text and the original index of each of its code points."""

    text: str
    original_length: int
    origin: list[int] | None = None
    """``origin[i]`` is the original index of ``text[i]``; None means identity."""
    folded: list[int] = field(default_factory=list)
    """Original indices of homoglyphs folded inside Latin words."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised [start, end) span to the original text."""
        if self.origin is None:
            return start, end
        if end <= start:
            position = self.origin[start] if start < len(self.origin) else self.original_length
            return position, position
        return self.origin[start], self.origin[end - 1] + 1


def normalize(text: str) -> Normalized:
    """Normalise ``text`` for matching; see the module docstring for what changes."""
    if text.isascii():
        return Normalized(text, len(text))
    # Only non-ASCII code points need Python-level work; numpy finds them and builds
    # the offset map, so the cost is per non-ASCII character, not per character.
    code_points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    positions = np.flatnonzero(code_points > 0x7F).tolist()
    lengths = np.ones(len(text), dtype=np.int64)
    pieces: list[str] = []
    folded: list[int] = []
    position = 0
    for index in positions:
        char = text[index]
        replacement = HOMOGLYPHS.get(char)
        if replacement is not None and _in_latin_word(text, index):
            folded.append(index)
        else:
            replacement = _fold(char)
        pieces.append(text[position:index])
        pieces.append(replacement)
        lengths[index] = len(replacement)
        position = index + 1
    pieces.append(text[position:])
    origin = np.repeat(np.arange(len(text)), lengths).tolist()
    return Normalized("".join(pieces), len(text), origin, folded)


def _in_latin_word(text: str, index: int) -> bool:
    """Whether the word around ``index`` holds an ASCII letter (a mixed-script word)."""
    for step in (-1, 1):
        position = index + step
        while 0 <= position < len(text):
            char = text[position]
            if char.isascii() and char.isalpha():
                return True
            if not (char.isalpha() or is_invisible(char)):
                break
            position += step
    return False

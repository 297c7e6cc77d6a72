# This module is about look-alike characters, so it has to spell them out.
# ruff: noqa: RUF001, RUF002, RUF003
"""Text normalisation in front of every detector, with a map back to original offsets.

Attackers hide text from pattern matchers with look-alike characters (fullwidth or
mathematical letters, Cyrillic "а" inside a Latin word), invisible characters between
letters, and diacritics. Detectors therefore match on a normalised copy:

* NFKD, combining marks dropped, then NFKC (so "ｉｇｎｏｒｅ", "𝐢𝐠𝐧𝐨𝐫𝐞", "ïgnöre" all
  read "ignore"), and the few Latin letters that imitate another Latin letter without
  decomposing to it ("ı", "ɡ") folded too;
* format characters (zero-width, bidi controls, Unicode tags, variation selectors)
  removed;
* confusable Cyrillic/Greek letters folded to Latin, but only inside words that also
  contain Latin-script letters, so genuine Russian or Greek text is left alone.

Scripts follow Unicode: every letter named "LATIN ..." (dotless i, ß, ø, æ, ş, đ, ư,
ł ...) is Latin, so Turkish, Vietnamese, Polish or Icelandic words are one script; only
a Cyrillic or Greek look-alike beside Latin letters makes a word mixed-script.

Findings must report offsets in the caller's original text, so the normalised copy
keeps, for each of its code points, the index of the original code point it came
from. ASCII text (the common case) is already normal and takes an O(1) path; other
text is handled with numpy over the code points and Python work per *distinct*
non-ASCII character, so the cost is linear and small whatever the input.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field

import numpy as np

# Cyrillic and Greek letters that render like a Latin letter in common fonts (Unicode
# confusables, restricted to the ones seen in real obfuscation).
HOMOGLYPHS: dict[str, str] = {
    **dict(zip("аеорсухіјѕԁһԛԝӏ", "aeopcyxijsdhqwl", strict=True)),
    **dict(zip("АВЕКМНОРСТХІЈЅ", "ABEKMHOPCTXIJS", strict=True)),
    **dict(zip("αοντυικρεχ", "aovtuikpex", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
}
# Latin letters read as another Latin letter for matching. Same script, so folding
# them never makes a word mixed-script (Turkish "ı" is an ordinary letter).
_LATIN_FOLDS = {"ı": "i", "ɡ": "g"}

# Character classes for word segmentation and script mixing.
_SEPARATOR, _LATIN, _LOOKALIKE, _OTHER = 0, 1, 2, 3
_ASCII_CLASSES = np.array(
    [
        _LATIN if chr(code).isalpha() else _OTHER if chr(code).isdigit() else _SEPARATOR
        for code in range(128)
    ],
    dtype=np.uint8,
)


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
    latin = _LATIN_FOLDS.get(char)
    if latin is not None:
        return latin
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", stripped or decomposed)


@functools.lru_cache(maxsize=8192)
def _char_class(char: str) -> int:
    """Where a non-ASCII code point stands in a word, and in which script."""
    if char in HOMOGLYPHS:
        return _LOOKALIKE
    if is_invisible(char) or unicodedata.category(char)[0] == "M":
        return _OTHER  # Joiners and combining marks belong to the word they are in.
    if not char.isalnum():
        return _SEPARATOR
    if unicodedata.name(char, "").startswith(("LATIN ", "FULLWIDTH LATIN ")):
        return _LATIN
    folded = _fold(char)
    # Mathematical and other styled letters are Latin letters in disguise.
    return _LATIN if folded.isascii() and folded.isalpha() else _OTHER


@dataclass(frozen=True)
class Normalized:
    """The normalised text and the original index of each of its code points."""

    text: str
    original_length: int
    origin: list[int] | None = None
    """``origin[i]`` is the original index of ``text[i]``; None means identity."""
    mixed_script: list[tuple[int, int]] = field(default_factory=list)
    """Original spans of the words that mix Latin letters with Cyrillic/Greek look-alikes."""

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
    scan = _Scan(text)
    lengths = np.ones(len(text), dtype=np.int64)
    lengths[scan.non_ascii] = np.array([len(_fold(c)) for c in scan.chars], dtype=np.int64)[
        scan.inverse
    ]
    # A folded look-alike becomes one Latin letter, whatever _fold would make of it.
    lengths[scan.folded] = 1
    table = {ord(c): _fold(c) for c in scan.chars}
    origin = np.repeat(np.arange(len(lengths)), lengths).tolist()
    return Normalized(scan.folded_text().translate(table), len(lengths), origin, scan.mixed)


class _Scan:
    """Classes of every code point of a non-ASCII text, and its mixed-script words.

    Python work happens once per distinct non-ASCII character; the rest is numpy.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.code_points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self.non_ascii = self.code_points > 0x7F
        self.distinct, self.inverse = np.unique(
            self.code_points[self.non_ascii], return_inverse=True
        )
        self.chars = [chr(code) for code in self.distinct.tolist()]
        classes = _ASCII_CLASSES[np.minimum(self.code_points, 0x7F)]
        classes[self.non_ascii] = np.array([_char_class(c) for c in self.chars], dtype=np.uint8)[
            self.inverse
        ]
        self.folded, self.mixed = _mixed_script_words(classes)

    def folded_text(self) -> str:
        """The text with each look-alike in a mixed-script word replaced by its Latin letter."""
        if not len(self.folded):
            return self.text
        targets = np.array([ord(HOMOGLYPHS.get(c, c)[0]) for c in self.chars], dtype=np.uint32)
        code_points = self.code_points.copy()
        code_points[self.folded] = targets[np.searchsorted(self.distinct, code_points[self.folded])]
        return code_points.tobytes().decode("utf-32-le", "surrogatepass")


def _mixed_script_words(classes: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Look-alikes to fold (indices) and the spans of the words holding them.

    A word is a maximal run of non-separators; it is mixed-script when it holds both a
    Latin letter and a Cyrillic/Greek look-alike. All array work: linear in the text.
    """
    separator = classes == _SEPARATOR
    word = np.cumsum(separator)  # Every separator starts a new word id.
    count = int(word[-1]) + 1
    has_latin = np.bincount(word, weights=classes == _LATIN, minlength=count) > 0
    lookalike = classes == _LOOKALIKE
    has_lookalike = np.bincount(word, weights=lookalike, minlength=count) > 0
    mixed_words = np.flatnonzero(has_latin & has_lookalike)
    if not len(mixed_words):
        return np.empty(0, dtype=np.int64), []
    folded = np.flatnonzero(lookalike & has_latin[word])
    inside = np.flatnonzero(~separator & np.isin(word, mixed_words))
    ids = word[inside]
    starts = inside[np.flatnonzero(np.diff(ids, prepend=-1))]
    ends = inside[np.flatnonzero(np.diff(ids, append=count + 1))] + 1
    return folded, list(zip(starts.tolist(), ends.tolist(), strict=True))


def defuse(text: str) -> str:
    """``text`` without invisible characters and with look-alikes in Latin words folded.

    What REDACT makes of an invisible-text finding. A span may cover many words (a
    summary of capped findings), so the look-alikes are found per word as in
    :func:`normalize`, and genuine Cyrillic or Greek words inside it stay as they are.
    """
    if text.isascii():
        return text
    scan = _Scan(text)
    return scan.folded_text().translate({ord(c): None for c in scan.chars if is_invisible(c)})

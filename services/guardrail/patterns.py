"""A group of RE2 patterns matched in one linear pass, then only the ones that hit.

RE2 guarantees time linear in the input (no backtracking), which is what makes the
guardrail safe on adversarial 100 KB inputs. A ``re2.Set`` scans the text once for
all patterns of a detector; the individual patterns then run only when the set says
they match, so the common case (a clean prompt) costs one scan per detector.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import re2

# Large enough for the DFA of a few dozen alternation-heavy patterns; RE2 falls back
# to its (still linear) NFA when a DFA would exceed it.
MAX_MEM = 64 << 20


def options(*, case_sensitive: bool = True) -> re2.Options:
    """RE2 options used by every guardrail pattern."""
    opts = re2.Options()
    opts.max_mem = MAX_MEM
    opts.case_sensitive = case_sensitive
    return opts


class PatternSet:
    """Patterns compiled once; :meth:`finditer` yields (pattern index, match)."""

    def __init__(self, patterns: Sequence[str], *, case_sensitive: bool = True) -> None:
        opts = options(case_sensitive=case_sensitive)
        self._set = re2.Set.SearchSet(opts)
        for pattern in patterns:
            self._set.Add(pattern)
        self._set.Compile()
        self._compiled = [re2.compile(pattern, opts) for pattern in patterns]

    def hits(self, text: str) -> list[int]:
        """Indices of the patterns that match somewhere in ``text``, in pattern order."""
        return sorted(self._set.Match(text) or ())

    def search(self, index: int, text: str) -> re2._Match | None:
        """The first match of pattern ``index``."""
        return self._compiled[index].search(text)

    def finditer(self, text: str) -> Iterator[tuple[int, re2._Match]]:
        """Every non-overlapping match of every pattern that matches at all."""
        for index in self.hits(text):
            for match in self._compiled[index].finditer(text):
                yield index, match

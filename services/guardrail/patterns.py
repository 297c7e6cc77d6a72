"""A group of RE2 patterns matched in one linear pass, then only the ones that hit.

RE2 guarantees time linear in the input (no backtracking), which is what makes the
guardrail safe on adversarial 100 KB inputs. ``re2.Set`` objects scan the text for
all patterns of a detector; the individual patterns then run only when a set says
they match, so the common case (a clean prompt) costs a few scans per detector.

The patterns are split into several sets. A set's DFA is built lazily over the
product of its patterns' states: with the injection detector's 147 alternation-heavy
rules in one set, that product outgrew the DFA cache, which was then thrown away and
rebuilt over and over, and a check of a 1 KB text no benchmark had seen before took
2-20 ms. Patterns with a wide counted repetition (``[^\n]{0,300}``: RE2 unrolls it
into hundreds of states) go in sets of :data:`WIDE_SET_SIZE`, the others in sets of
:data:`SET_SIZE`, which keeps every DFA small enough to stay cached while a clean
prompt still costs only a few scans (bench/README.md, "guardrail: RE2 sets").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import re2

# Large enough for the DFA of a few dozen alternation-heavy patterns; RE2 falls back
# to its (still linear) NFA when a DFA would exceed it.
MAX_MEM = 64 << 20
SET_SIZE = 48
WIDE_SET_SIZE = 6
# A counted repetition whose upper bound is at least this makes a pattern "wide".
WIDE_REPEAT = 20
_REPEAT_BOUND = re.compile(r"\{\d*,(\d+)\}")


def options(*, case_sensitive: bool = True) -> re2.Options:
    """RE2 options used by every guardrail pattern."""
    opts = re2.Options()
    opts.max_mem = MAX_MEM
    opts.case_sensitive = case_sensitive
    return opts


class PatternSet:
    """Patterns compiled once; :meth:`finditer` yields (pattern index, match)."""

    def __init__(
        self, patterns: Sequence[str], *, case_sensitive: bool = True, set_size: int = SET_SIZE
    ) -> None:
        opts = options(case_sensitive=case_sensitive)
        wide = [i for i, pattern in enumerate(patterns) if _is_wide(pattern)]
        narrow = [i for i, pattern in enumerate(patterns) if not _is_wide(pattern)]
        groups = [narrow[i : i + set_size] for i in range(0, len(narrow), set_size)]
        groups += [wide[i : i + WIDE_SET_SIZE] for i in range(0, len(wide), WIDE_SET_SIZE)]
        self._sets: list[tuple[list[int], re2.Set]] = []
        for indices in groups:
            group = re2.Set.SearchSet(opts)
            for index in indices:
                group.Add(patterns[index])
            group.Compile()
            self._sets.append((indices, group))
        self._compiled = [re2.compile(pattern, opts) for pattern in patterns]

    def hits(self, text: str) -> list[int]:
        """Indices of the patterns that match somewhere in ``text``, in pattern order."""
        data = text.encode()  # once, not once per set
        return sorted(
            indices[found] for indices, group in self._sets for found in group.Match(data) or ()
        )

    def matches(self, index: int, text: str) -> Iterator[re2._Match]:
        """Every non-overlapping match of pattern ``index``."""
        return self._compiled[index].finditer(text)

    def finditer(self, text: str) -> Iterator[tuple[int, re2._Match]]:
        """Every non-overlapping match of every pattern that matches at all."""
        for index in self.hits(text):
            for match in self.matches(index, text):
                yield index, match


def _is_wide(pattern: str) -> bool:
    return any(int(bound) >= WIDE_REPEAT for bound in _REPEAT_BOUND.findall(pattern))

"""Deterministic, sticky variant assignment, bit-for-bit the seed design's.

    h = sha256_hex(utf8(experiment_id + ":" + user_id))
    bucket = int(h[0:8], 16) / 0xFFFFFFFF          (an IEEE-754 double in [0, 1])
    total = 0.0; for w in weights: total += w       (left to right)
    cum = 0.0; for w in weights: cum += w / total   (left to right; a threshold each)
    variant = the first whose threshold >= bucket, else the last

Every step is spelled out because another language must reproduce the same
doubles: the thresholds are accumulated one division at a time, in variant order,
exactly as the seed did. Summing differently (Python 3.12's compensated ``sum``,
``math.fsum``, pairwise sums, or cumulating raw weights and dividing at the end)
can move a threshold by one ulp and flip a user whose bucket sits on it. The last
variant is the fallback because rounding can leave the final threshold below 1.

Thresholds are computed once per experiment version, and the search is a
``bisect`` over them, so an assignment costs one sha256 and a few comparisons.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_left
from collections.abc import Sequence

BUCKET_SCALE = 0xFFFFFFFF


def bucket_of(experiment_id: str, user_id: str) -> float:
    """The user's bucket in [0, 1] for an experiment; the same in every language."""
    digest = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).hexdigest()
    return int(digest[:8], 16) / BUCKET_SCALE


def thresholds_of(weights: Sequence[float]) -> list[float]:
    """Cumulative normalised weights, accumulated exactly as the seed design does."""
    if not weights:
        raise ValueError("an experiment needs at least one variant")
    total = 0.0
    for weight in weights:
        if not (weight > 0 and math.isfinite(weight)):
            raise ValueError(f"weights must be positive and finite, got {weight!r}")
        total += weight
    thresholds = []
    cumulative = 0.0
    for weight in weights:
        cumulative += weight / total
        thresholds.append(cumulative)
    return thresholds


class Assigner:
    """Assigns users of one experiment version to variant indexes."""

    __slots__ = ("_last", "_prefix", "_thresholds")

    def __init__(self, experiment_id: str, weights: Sequence[float]) -> None:
        self._prefix = f"{experiment_id}:"
        self._thresholds = thresholds_of(weights)
        self._last = len(self._thresholds) - 1

    def bucket(self, user_id: str) -> float:
        """The user's bucket; equal to :func:`bucket_of` (inlined prefix for speed)."""
        digest = hashlib.sha256((self._prefix + user_id).encode()).hexdigest()
        return int(digest[:8], 16) / BUCKET_SCALE

    def index_for_bucket(self, bucket: float) -> int:
        """Index of the first variant whose threshold is >= bucket, else the last."""
        return min(bisect_left(self._thresholds, bucket), self._last)

    def assign(self, user_id: str) -> tuple[int, float]:
        """(variant index, bucket) of one user."""
        bucket = self.bucket(user_id)
        return self.index_for_bucket(bucket), bucket

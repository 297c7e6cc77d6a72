"""The statistics of drift: centroid distance, its calibrated threshold, and MMD.

Everything works on L2-normalised embeddings (one row per text) and is pure numpy,
so it is tested without a model or a server.

Two questions are asked of a window against its baseline:

* **Is it unlikely under the baseline?** A kernel two-sample test: the maximum mean
  discrepancy (MMD, Gretton et al. 2012) with a Gaussian kernel whose bandwidth is
  the median pairwise distance, and a permutation test for its p-value. The kernel
  matrix of the pooled sample is computed once; each permutation only relabels
  rows, so all permutations reduce to one matrix product.
* **Has the average answer moved further than sampling noise moves it?** The cosine
  distance between the two centroids, against a threshold calibrated from the
  baseline itself: the 99th percentile of the distance between the centroids of
  random baseline halves, rescaled to the sizes being compared.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

CALIBRATION_QUANTILE = 0.99
"""Quantile of the null distribution used for both thresholds (centroid, outlier)."""


def centroid(embeddings: np.ndarray) -> np.ndarray:
    """The mean embedding (not re-normalised; cosine distance ignores its length)."""
    return np.asarray(embeddings.mean(axis=0, dtype=np.float64))


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - cos(a, b) of two vectors; 0 for a zero vector, which has no direction."""
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norms == 0.0:
        return 0.0
    return float(1.0 - np.dot(a, b) / norms)


def distances_to(embeddings: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Cosine distance of every (normalised) row to ``center``."""
    norm = float(np.linalg.norm(center))
    if norm == 0.0:
        return np.zeros(len(embeddings))
    return np.asarray(1.0 - embeddings.astype(np.float64) @ (center / norm))


@dataclass(frozen=True)
class Calibration:
    """What a baseline says about its own sampling noise.

    ``distance_unit`` is the 99th percentile of the half-vs-half centroid distance
    divided by ``1/a + 1/b`` for halves of sizes a and b. For small differences the
    cosine distance between two sample centroids is half their squared distance
    over the squared centroid length, whose expectation grows as ``1/a + 1/b``
    (the variance of a difference of two means), so multiplying back by
    ``1/n + 1/m`` gives the threshold for a baseline of n against a window of m.
    """

    distance_unit: float
    outlier_threshold: float

    def distance_threshold(self, baseline_size: int, window_size: int) -> float:
        """The centroid distance that sampling noise alone exceeds 1% of the time."""
        return self.distance_unit * (1.0 / baseline_size + 1.0 / window_size)


def calibrate(embeddings: np.ndarray, rounds: int, rng: np.random.Generator) -> Calibration:
    """Calibrate the thresholds from ``rounds`` random splits of the baseline into halves."""
    n = len(embeddings)
    if n < 4:
        raise ValueError("calibration needs at least 4 embeddings")
    half = n // 2
    data = embeddings.astype(np.float64)
    # Row r of ``masks`` selects one random half; the other half is its complement.
    order = rng.permuted(np.tile(np.arange(n), (rounds, 1)), axis=1)
    masks = np.zeros((rounds, n))
    np.put_along_axis(masks, order[:, :half], 1.0, axis=1)
    total = data.sum(axis=0)
    sums_a = masks @ data
    sums_b = total - sums_a
    dots = np.einsum("ij,ij->i", sums_a, sums_b)
    norms = np.linalg.norm(sums_a, axis=1) * np.linalg.norm(sums_b, axis=1)
    split_distances = 1.0 - dots / np.where(norms == 0.0, 1.0, norms)
    scale = 1.0 / half + 1.0 / (n - half)
    unit = float(np.quantile(split_distances, CALIBRATION_QUANTILE)) / scale
    outliers = float(np.quantile(distances_to(embeddings, centroid(embeddings)), 0.99))
    return Calibration(distance_unit=max(unit, 0.0), outlier_threshold=outliers)


@dataclass(frozen=True)
class TwoSampleTest:
    """Result of the MMD permutation test."""

    statistic: float
    """Unbiased estimate of MMD² between the two samples."""
    p_value: float
    """(1 + permutations at least as extreme) / (1 + permutations)."""
    bandwidth: float
    """Kernel bandwidth sigma (median pairwise Euclidean distance of the pooled sample)."""


def mmd_permutation_test(
    x: np.ndarray, y: np.ndarray, permutations: int, rng: np.random.Generator
) -> TwoSampleTest:
    """Two-sample MMD test of ``x`` (n rows) against ``y`` (m rows).

    The Gaussian kernel ``exp(-|a-b|² / 2 sigma²)`` uses sigma² = median of the pooled
    pairwise squared distances; computing sigma on the pooled sample keeps the test exact, since
    pooling is invariant under the permutations.
    """
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        raise ValueError("the MMD test needs at least 2 samples on each side")
    pooled = np.concatenate([x, y]).astype(np.float64)
    size = n + m
    squared_norms = np.einsum("ij,ij->i", pooled, pooled)
    sq_dist = squared_norms[:, None] + squared_norms[None, :] - 2.0 * (pooled @ pooled.T)
    np.maximum(sq_dist, 0.0, out=sq_dist)
    off_diagonal = ~np.eye(size, dtype=bool)
    sigma2 = float(np.median(sq_dist[off_diagonal]))
    if sigma2 <= 0.0:
        # All texts identical on both sides: nothing can tell the samples apart.
        return TwoSampleTest(statistic=0.0, p_value=1.0, bandwidth=0.0)
    # float64 throughout: MMD² is a small difference of large kernel sums.
    kernel = np.exp(sq_dist * (-0.5 / sigma2))
    del sq_dist

    # Row 0 of ``labels`` marks x in the observed order (its first n rows); each
    # other row marks a random n-subset of the pooled sample as "x".
    labels = np.zeros((permutations + 1, size))
    labels[0, :n] = 1.0
    order = rng.permuted(np.tile(np.arange(size), (permutations, 1)), axis=1)
    np.put_along_axis(labels[1:], order[:, :n], 1.0, axis=1)
    members = np.ascontiguousarray(labels.T)

    row_sums = kernel.sum(axis=1)
    total = float(row_sums.sum())
    # With u the 0/1 membership of x: Sxx = uᵀKu, Sxy = uᵀK1 - Sxx, Syy = T - 2Sxy - Sxx.
    s_xx = np.einsum("ij,ij->j", members, kernel @ members)
    s_xy = row_sums @ members - s_xx
    s_yy = total - 2.0 * s_xy - s_xx
    # Unbiased estimator: the diagonal k(a, a) is left out of the within-sample sums.
    diagonal = np.diagonal(kernel)
    d_x = diagonal @ members
    d_y = float(diagonal.sum()) - d_x
    mmd2 = (s_xx - d_x) / (n * (n - 1)) + (s_yy - d_y) / (m * (m - 1)) - 2.0 * s_xy / (n * m)
    observed = float(mmd2[0])
    # A tolerance so that permutations equal to the observed value up to float
    # rounding count as "at least as extreme" (the test stays conservative).
    extreme = int(np.count_nonzero(mmd2[1:] >= observed - 1e-9))
    return TwoSampleTest(
        statistic=observed,
        p_value=(1 + extreme) / (1 + permutations),
        bandwidth=float(np.sqrt(sigma2)),
    )


def nearest_to_centroid(embeddings: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Indices and distances of the ``k`` rows nearest their own centroid, nearest first."""
    if len(embeddings) == 0 or k <= 0:
        return []
    distances = distances_to(embeddings, centroid(embeddings))
    k = min(k, len(distances))
    nearest = np.argpartition(distances, k - 1)[:k]
    nearest = nearest[np.argsort(distances[nearest], kind="stable")]
    return [(int(i), float(distances[i])) for i in nearest]


def data_seed(*arrays: np.ndarray) -> int:
    """A seed derived from the data, so the same baseline and window give the same answer."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return int.from_bytes(digest.digest()[:8], "little")

"""The drift statistics on synthetic embeddings: calibration, MMD test, examples."""

from __future__ import annotations

import numpy as np
import pytest

from services.drift import stats

DIM = 64


def _cloud(n: int, rng: np.random.Generator, shift: float = 0.0) -> np.ndarray:
    """Normalised points around a common direction, like sentence embeddings of one mix."""
    points = rng.normal(size=(n, DIM))
    points[:, 0] += 4.0
    points[:, 1] += shift
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_cosine_distance_of_identical_and_opposite_vectors() -> None:
    v = np.array([1.0, 2.0, 3.0])
    assert stats.cosine_distance(v, v) == pytest.approx(0.0, abs=1e-12)
    assert stats.cosine_distance(v, -v) == pytest.approx(2.0)
    assert stats.cosine_distance(v, np.zeros(3)) == 0.0


def test_calibrated_threshold_matches_the_null_quantile_for_other_sizes() -> None:
    rng = np.random.default_rng(1)
    calibration = stats.calibrate(_cloud(1000, rng), 500, np.random.default_rng(2))
    # The null distribution: fresh baselines of 1000 and windows of 300 from one source.
    distances = [
        stats.cosine_distance(stats.centroid(_cloud(1000, rng)), stats.centroid(_cloud(300, rng)))
        for _ in range(300)
    ]
    threshold = calibration.distance_threshold(1000, 300)
    # The calibration is itself an estimate from one baseline, hence the tolerance.
    assert np.quantile(distances, 0.99) == pytest.approx(threshold, rel=0.2)
    assert np.mean(np.array(distances) > threshold) <= 0.05


def test_threshold_shrinks_as_the_window_grows() -> None:
    calibration = stats.calibrate(
        _cloud(600, np.random.default_rng(3)), 50, np.random.default_rng(4)
    )
    assert calibration.distance_threshold(600, 100) > calibration.distance_threshold(600, 1000)


def test_outlier_threshold_is_the_99th_percentile_of_baseline_distances() -> None:
    baseline = _cloud(500, np.random.default_rng(5))
    calibration = stats.calibrate(baseline, 20, np.random.default_rng(6))
    distances = stats.distances_to(baseline, stats.centroid(baseline))
    assert np.mean(distances > calibration.outlier_threshold) == pytest.approx(0.01, abs=0.005)


def test_mmd_p_values_are_roughly_uniform_under_the_null() -> None:
    rng = np.random.default_rng(7)
    p_values = [
        stats.mmd_permutation_test(_cloud(150, rng), _cloud(100, rng), 99, rng).p_value
        for _ in range(40)
    ]
    assert 0.3 < float(np.mean(p_values)) < 0.7
    assert sum(p < 0.05 for p in p_values) <= 6


def test_mmd_detects_a_shifted_sample() -> None:
    rng = np.random.default_rng(8)
    result = stats.mmd_permutation_test(_cloud(300, rng), _cloud(200, rng, shift=1.0), 199, rng)
    assert result.p_value == pytest.approx(1 / 200)
    assert result.statistic > 0


def test_mmd_of_identical_points_has_p_value_one() -> None:
    same = np.tile(_cloud(1, np.random.default_rng(9)), (10, 1))
    result = stats.mmd_permutation_test(same, same, 50, np.random.default_rng(10))
    assert result.p_value == 1.0
    assert result.statistic == 0.0


def test_mmd_statistic_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(11)
    x, y = _cloud(30, rng), _cloud(20, rng, shift=0.5)
    result = stats.mmd_permutation_test(x, y, 10, rng)
    pooled = np.concatenate([x, y])
    sq = ((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(-1)
    sigma2 = np.median(sq[~np.eye(50, dtype=bool)])
    k = np.exp(-sq / (2 * sigma2))
    kxx, kyy, kxy = k[:30, :30], k[30:, 30:], k[:30, 30:]
    expected = (kxx.sum() - 30) / (30 * 29) + (kyy.sum() - 20) / (20 * 19) - 2 * kxy.mean()
    assert result.statistic == pytest.approx(expected, rel=1e-9)
    assert result.bandwidth == pytest.approx(np.sqrt(sigma2))


def test_mmd_needs_two_samples_per_side() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        stats.mmd_permutation_test(np.ones((1, 3)), np.ones((5, 3)), 10, np.random.default_rng())


def test_nearest_to_centroid_orders_by_distance() -> None:
    points = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6], [0.6, 0.8]])
    nearest = stats.nearest_to_centroid(points, 2)
    assert sorted(i for i, _ in nearest) == [2, 3]
    assert nearest[0][1] <= nearest[1][1]
    assert stats.nearest_to_centroid(points[:0], 3) == []


def test_data_seed_depends_on_the_data_only() -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert stats.data_seed(a) == stats.data_seed(a.copy())
    assert stats.data_seed(a) != stats.data_seed(a + 1)

"""From per-variant observations to the verdict people read."""

from __future__ import annotations

import numpy as np

from services.experiment.model import Experiment, MetricKind, MetricSpec, Variant
from services.experiment.results import UnitValues, compute_results

THUMBS_UP = MetricSpec("thumbs_up", MetricKind.PROPORTION, True)
EXPERIMENT = Experiment(
    id="tone",
    variants=(Variant("control", 1.0), Variant("friendly", 1.0)),
    primary_metric=THUMBS_UP,
)


def _units(values: np.ndarray) -> UnitValues:
    return UnitValues(values.astype(float), np.arange(values.size, dtype=np.int64) * 2)


def _rates(n: int, rate: float, seed: int) -> UnitValues:
    return _units((np.random.default_rng(seed).random(n) < rate).astype(float))


def test_clear_improvement_with_enough_samples_is_called_better() -> None:
    data = {"control": _rates(2000, 0.20, 1), "friendly": _rates(2000, 0.30, 2)}
    results = compute_results(
        EXPERIMENT, THUMBS_UP, data, {"control": 2000, "friendly": 2000}, 0.05, 1000
    )
    (comparison,) = results.comparisons
    assert results.metric.kind is MetricKind.PROPORTION
    assert comparison.test.test == "two_proportion_z"
    assert comparison.significant
    assert comparison.sequential_significant
    assert results.verdict.startswith("friendly is better than control on thumbs_up")
    assert [v.exposures for v in results.variants] == [2000, 2000]


def test_a_difference_before_the_sample_size_is_not_called_significant() -> None:
    data = {"control": _rates(300, 0.10, 1), "friendly": _rates(300, 0.40, 2)}
    results = compute_results(EXPERIMENT, THUMBS_UP, data, {}, 0.05, 1000)
    (comparison,) = results.comparisons
    assert comparison.test.p_value < 0.05
    assert not comparison.sample_size_reached
    assert not comparison.significant
    assert results.verdict == "not enough data: 300 of 1000 samples in variant control"


def test_sample_ratio_mismatch_overrides_the_verdict() -> None:
    data = {"control": _rates(2000, 0.2, 1), "friendly": _rates(2000, 0.3, 2)}
    exposures = {"control": 5000, "friendly": 4000}
    results = compute_results(EXPERIMENT, THUMBS_UP, data, exposures, 0.05, 1000)
    assert results.sample_ratio.mismatch
    assert results.verdict.startswith("sample ratio mismatch")


def test_lower_is_better_metric_calls_a_rise_worse() -> None:
    rng = np.random.default_rng(4)
    data = {
        "control": _units(rng.normal(800, 100, 1500)),
        "friendly": _units(rng.normal(900, 100, 1500)),
    }
    spec = MetricSpec("latency_ms", MetricKind.CONTINUOUS, False)
    results = compute_results(EXPERIMENT, spec, data, {}, 0.05, 1000)
    assert results.comparisons[0].test.test == "welch_t"
    assert "friendly is worse than control on latency_ms" in results.verdict


def test_kind_is_inferred_from_the_values() -> None:
    spec = MetricSpec("converted")
    binary = {"control": _rates(50, 0.5, 1), "friendly": _rates(50, 0.5, 2)}
    assert (
        compute_results(EXPERIMENT, spec, binary, {}, 0.05, 10).metric.kind is MetricKind.PROPORTION
    )
    scores = {"control": _units(np.array([0.5, 1.0, 0.0])), "friendly": _rates(5, 0.5, 3)}
    assert (
        compute_results(EXPERIMENT, spec, scores, {}, 0.05, 10).metric.kind is MetricKind.CONTINUOUS
    )


def test_declared_proportion_with_fractional_per_user_rates_uses_welch() -> None:
    spec = MetricSpec("thumbs_up", MetricKind.PROPORTION, True)
    data = {"control": _units(np.array([0.5, 1.0, 0.0, 0.25])), "friendly": _rates(5, 0.5, 3)}
    results = compute_results(EXPERIMENT, spec, data, {}, 0.05, 1)
    assert results.comparisons[0].test.test == "welch_t"


def test_variants_without_data_report_zero_and_no_difference() -> None:
    results = compute_results(EXPERIMENT, MetricSpec("score"), {}, {}, 0.05, 1000)
    assert [v.summary.n for v in results.variants] == [0, 0]
    assert results.comparisons[0].test.p_value == 1.0
    assert results.verdict.startswith("not enough data: 0 of 1000")

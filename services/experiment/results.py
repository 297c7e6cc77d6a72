"""Turns per-variant observations into the results people read.

Pure logic over what the store returns: for each variant, one value per unit
(a user, or a call without a user) in the order the units first appeared, and the
exposure counts. Statistics come from :mod:`services.experiment.stats`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from services.experiment import stats
from services.experiment.model import Experiment, MetricKind, MetricSpec


@dataclass(frozen=True)
class UnitValues:
    """One variant's observations: a value per unit and when the unit first appeared."""

    values: np.ndarray
    first_seen_us: np.ndarray


@dataclass(frozen=True)
class VariantResult:
    """Summary of one variant, with its exposure count."""

    variant: str
    summary: stats.ArmSummary
    exposures: int


@dataclass(frozen=True)
class ComparisonResult:
    """One variant against the control, fixed-horizon and sequential."""

    variant: str
    test: stats.TestResult
    sample_size_reached: bool
    significant: bool
    sequential_p_value: float
    sequential_significant: bool


@dataclass(frozen=True)
class Results:
    """Everything GetResults answers."""

    experiment_id: str
    metric: MetricSpec
    control_variant: str
    variants: list[VariantResult]
    comparisons: list[ComparisonResult]
    sample_ratio: stats.SrmResult
    verdict: str
    alpha: float


def compute_results(
    experiment: Experiment,
    metric: MetricSpec,
    observations: Mapping[str, UnitValues],
    exposures: Mapping[str, int],
    alpha: float,
    min_samples: int,
    mixing_sd: float = stats.DEFAULT_MIXING_SD,
) -> Results:
    """Results of ``metric`` for every variant of ``experiment`` against its control."""
    empty = UnitValues(np.zeros(0), np.zeros(0, dtype=np.int64))
    data = {v.name: observations.get(v.name, empty) for v in experiment.variants}
    proportion = _is_proportion(metric, data.values())
    metric = MetricSpec(
        metric.name,
        MetricKind.PROPORTION if proportion else MetricKind.CONTINUOUS,
        metric.higher_is_better,
    )
    control = experiment.control.name
    variants = [
        VariantResult(
            v.name,
            stats.summarize(data[v.name].values, alpha, proportion),
            exposures.get(v.name, 0),
        )
        for v in experiment.variants
    ]
    comparisons = []
    for v in experiment.variants:
        if v.name == control:
            continue
        test = stats.compare(data[control].values, data[v.name].values, alpha, proportion)
        reached = min(data[control].values.size, data[v.name].values.size) >= min_samples
        sequential = stats.sequential_p_value(
            *_arrival_order(data[control], data[v.name]), proportion, mixing_sd
        )
        comparisons.append(
            ComparisonResult(
                v.name,
                test,
                reached,
                reached and test.p_value < alpha,
                sequential,
                sequential < alpha,
            )
        )
    srm = stats.sample_ratio_mismatch(
        [exposures.get(v.name, 0) for v in experiment.variants], experiment.weights
    )
    verdict = _verdict(metric, control, variants, comparisons, srm, min_samples)
    return Results(experiment.id, metric, control, variants, comparisons, srm, verdict, alpha)


def _is_proportion(metric: MetricSpec, data: Iterable[UnitValues]) -> bool:
    """Proportion tests need 0/1 values per unit; otherwise the metric is continuous.

    A declared proportion whose units have several events averages to fractions per
    user; Welch's t-test on those per-user rates is the valid test then.
    """
    values = [d.values for d in data]
    everything = np.concatenate(values) if values else np.zeros(0)
    if metric.kind is MetricKind.CONTINUOUS:
        return False
    return stats.is_binary(everything) if everything.size else metric.kind is MetricKind.PROPORTION


def _arrival_order(control: UnitValues, treatment: UnitValues) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate([control.values, treatment.values])
    times = np.concatenate([control.first_seen_us, treatment.first_seen_us])
    is_treatment = np.concatenate(
        [np.zeros(control.values.size, dtype=bool), np.ones(treatment.values.size, dtype=bool)]
    )
    order = np.argsort(times, kind="stable")
    return values[order], is_treatment[order]


def _verdict(
    metric: MetricSpec,
    control: str,
    variants: list[VariantResult],
    comparisons: list[ComparisonResult],
    srm: stats.SrmResult,
    min_samples: int,
) -> str:
    if srm.mismatch:
        return (
            f"sample ratio mismatch (p={srm.p_value:.2g}): exposures do not match the weights, "
            "so assignment or logging is broken; do not trust these results"
        )
    if not comparisons:
        return "only one variant: nothing to compare"
    smallest = min(variants, key=lambda v: v.summary.n)
    if smallest.summary.n < min_samples:
        return (
            f"not enough data: {smallest.summary.n} of {min_samples} samples "
            f"in variant {smallest.variant}"
        )
    findings = []
    for c in comparisons:
        if not (c.significant or c.sequential_significant):
            continue
        better = (c.test.difference > 0) == metric.higher_is_better
        word = "better" if better else "worse"
        findings.append(
            f"{c.variant} is {word} than {control} on {metric.name} "
            f"(difference {c.test.difference:+.4g}, p={c.test.p_value:.2g}, "
            f"sequential p={c.sequential_p_value:.2g})"
        )
    if findings:
        return "; ".join(findings)
    best = min(comparisons, key=lambda c: c.test.p_value)
    return f"no significant difference on {metric.name} (smallest p={best.test.p_value:.2g})"

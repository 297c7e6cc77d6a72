"""Experiment statistics checked against scipy, by simulation, and on skewed logs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from services.experiment import stats

ALPHA = 0.05


def _known_continuous() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    return rng.normal(100.0, 15.0, 400), rng.lognormal(4.7, 0.3, 250)


def test_continuous_summary_matches_scipy_t_interval() -> None:
    values, _ = _known_continuous()
    summary = stats.summarize(values, ALPHA, proportion=False)
    low, high = sps.t.interval(0.95, values.size - 1, loc=values.mean(), scale=sps.sem(values))
    assert summary.n == 400
    assert summary.mean == pytest.approx(values.mean())
    assert summary.std_dev == pytest.approx(values.std(ddof=1))
    assert (summary.ci_low, summary.ci_high) == pytest.approx((low, high))


def test_proportion_summary_is_the_wilson_interval() -> None:
    values = np.array([1.0] * 37 + [0.0] * 163)
    summary = stats.summarize(values, ALPHA, proportion=True)
    ci = sps.binomtest(37, 200).proportion_ci(0.95, method="wilson")
    assert summary.mean == pytest.approx(0.185)
    assert (summary.ci_low, summary.ci_high) == pytest.approx((ci.low, ci.high))


def test_welch_p_value_and_interval_match_scipy() -> None:
    control, treatment = _known_continuous()
    result = stats.compare(control, treatment, ALPHA, proportion=False)
    reference = sps.ttest_ind(treatment, control, equal_var=False)
    ci = reference.confidence_interval(0.95)
    assert result.test == "welch_t"
    assert result.difference == pytest.approx(treatment.mean() - control.mean())
    assert result.p_value == pytest.approx(reference.pvalue)
    assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high))


def test_two_proportion_z_test_matches_the_uncorrected_chi_square() -> None:
    control = np.array([1.0] * 120 + [0.0] * 880)
    treatment = np.array([1.0] * 155 + [0.0] * 845)
    result = stats.compare(control, treatment, ALPHA, proportion=True)
    table = [[120, 880], [155, 845]]
    chi2, p_value, _, _ = sps.chi2_contingency(table, correction=False)
    assert result.test == "two_proportion_z"
    assert result.difference == pytest.approx(0.035)
    assert result.p_value == pytest.approx(p_value)
    # The z statistic squared is the 2x2 chi-square statistic.
    z = sps.norm.isf(result.p_value / 2)
    assert z * z == pytest.approx(chi2)


def test_minimum_detectable_effect_has_80_percent_power() -> None:
    control, treatment = _known_continuous()
    result = stats.compare(control, treatment, ALPHA, proportion=False)
    se = math.sqrt(control.var(ddof=1) / control.size + treatment.var(ddof=1) / treatment.size)
    a, b = control.var(ddof=1) / control.size, treatment.var(ddof=1) / treatment.size
    df = (a + b) ** 2 / (a * a / (control.size - 1) + b * b / (treatment.size - 1))
    critical = sps.t.ppf(1 - ALPHA / 2, df)
    shift = result.minimum_detectable_effect / se
    power = sps.nct.sf(critical, df, shift) + sps.nct.cdf(-critical, df, shift)
    assert power == pytest.approx(0.8, abs=0.01)


def test_arms_too_small_to_test_give_p_one_and_infinite_mde() -> None:
    result = stats.compare(np.array([1.0]), np.array([2.0, 3.0]), ALPHA, proportion=False)
    assert result.p_value == 1.0
    assert math.isinf(result.minimum_detectable_effect)


def test_srm_is_quiet_on_a_fair_exposure_log() -> None:
    result = stats.sample_ratio_mismatch([5021, 4979], [1.0, 1.0])
    assert not result.mismatch
    reference = sps.chisquare([5021, 4979], [5000, 5000])
    assert result.p_value == pytest.approx(reference.pvalue)


def test_srm_fires_on_a_skewed_exposure_log() -> None:
    # A 50/50 experiment where the treatment's exposure logging loses 5 % of events.
    rng = np.random.default_rng(3)
    arms = rng.random(50_000) < 0.5
    logged = arms & (rng.random(50_000) < 0.95)
    exposures = [int((~arms).sum()), int(logged.sum())]
    result = stats.sample_ratio_mismatch(exposures, [1.0, 1.0])
    assert result.mismatch
    assert result.p_value < stats.SRM_ALPHA


def test_srm_uses_the_weights_not_equal_shares() -> None:
    assert not stats.sample_ratio_mismatch([9000, 1000], [0.9, 0.1]).mismatch
    assert stats.sample_ratio_mismatch([9000, 1000], [0.5, 0.5]).mismatch


def _naive_peeking_rejects(values: np.ndarray, treated: np.ndarray, looks: range) -> bool:
    for n in looks:
        a, b = values[:n][treated[:n]], values[:n][~treated[:n]]
        if sps.ttest_ind(a, b, equal_var=False).pvalue < ALPHA:
            return True
    return False


def test_aa_simulation_sequential_test_keeps_its_false_positive_rate() -> None:
    """Looking after every 100 users: mSPRT stays under alpha, naive t-tests do not."""
    rng = np.random.default_rng(20261127)
    simulations, n = 200, 3000
    looks = range(100, n + 1, 100)
    sequential = naive = binary = 0
    for _ in range(simulations):
        treated = rng.random(n) < 0.5
        values = rng.normal(10.0, 3.0, n)
        sequential += stats.sequential_p_value(values, treated, proportion=False) < ALPHA
        binary += stats.sequential_p_value((rng.random(n) < 0.2) * 1.0, treated, True) < ALPHA
        naive += _naive_peeking_rejects(values, treated, looks)
    assert sequential / simulations <= ALPHA
    assert binary / simulations <= ALPHA
    # Thirty looks at a fixed-horizon test inflate the false-positive rate severalfold.
    assert naive / simulations > 2 * ALPHA


def test_sequential_test_detects_a_real_effect() -> None:
    rng = np.random.default_rng(5)
    detected = 0
    for _ in range(50):
        treated = rng.random(6000) < 0.5
        values = rng.normal(10.0, 3.0, 6000) + 0.45 * treated
        detected += stats.sequential_p_value(values, treated, proportion=False) < ALPHA
    assert detected / 50 >= 0.8


def test_sequential_p_value_never_rises_as_data_arrives() -> None:
    rng = np.random.default_rng(9)
    treated = rng.random(4000) < 0.5
    values = rng.normal(0.0, 1.0, 4000) + 0.1 * treated
    p_values = [stats.sequential_p_value(values[:n], treated[:n], False) for n in (500, 2000, 4000)]
    assert p_values[0] >= p_values[1] >= p_values[2]


def test_sequential_p_value_is_one_before_the_burn_in() -> None:
    values = np.array([1.0, 100.0] * 10)
    treated = np.array([False, True] * 10)
    assert stats.sequential_p_value(values, treated, proportion=False) == 1.0

"""Experiment statistics: summaries, fixed-horizon tests, power, SRM and mSPRT.

Pure functions over numpy arrays; scipy provides every distribution. The unit of
analysis is whatever the caller passes one value per (the store passes one value
per user, the unit of randomisation).

* Continuous metrics: t-based confidence interval per arm, Welch's t-test and the
  Welch-Satterthwaite interval for the difference.
* Proportions (0/1 values): Wilson score interval per arm (sane at 0 % and 100 %,
  where the Wald interval collapses), pooled two-proportion z-test, and the unpooled
  Wald interval for the difference.
* Minimum detectable effect: the absolute difference a two-sided test at ``alpha``
  would detect with 80 % power at the current sample sizes and variances.
* Sample ratio mismatch: chi-square goodness of fit of exposures against weights.
* Always-valid inference: the mixture sequential probability ratio test (mSPRT) of
  Johari, Pekelis & Walsh, "Always valid inference" (2017/2022), with a normal
  mixing distribution over the standardised effect (Cohen's d) and the variance
  estimated from the data seen so far. Its p-value is the running minimum of
  ``1 / Lambda_n`` over the data in arrival order, so it can be read after every
  observation without inflating the false-positive rate (Ville's inequality).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps  # type: ignore[import-untyped]

POWER = 0.8
SRM_ALPHA = 0.001
DEFAULT_MIXING_SD = 0.1
# The plug-in variance of a handful of points is too noisy for the mixture ratio:
# the sequential test starts once both arms have this many observations.
SEQUENTIAL_BURN_IN = 30


@dataclass(frozen=True)
class ArmSummary:
    """n, mean, sample standard deviation and (1 - alpha) interval of one arm."""

    n: int
    mean: float
    std_dev: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class TestResult:
    """One variant against the control."""

    difference: float
    relative_difference_percent: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    minimum_detectable_effect: float


@dataclass(frozen=True)
class SrmResult:
    """Chi-square goodness of fit of exposure counts against the weights."""

    chi_square: float
    p_value: float
    mismatch: bool


def is_binary(values: np.ndarray) -> bool:
    """True when every value is 0 or 1 (and there is at least one)."""
    return values.size > 0 and bool(np.all((values == 0) | (values == 1)))


def summarize(values: np.ndarray, alpha: float, proportion: bool) -> ArmSummary:
    """Summary of one arm; the interval is Wilson for proportions, t-based otherwise."""
    n = int(values.size)
    if n == 0:
        return ArmSummary(0, 0.0, 0.0, 0.0, 0.0)
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1)) if n > 1 else 0.0
    if proportion:
        low, high = _wilson(mean, n, alpha)
    elif n > 1:
        half = float(sps.t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
    else:
        low = high = mean
    return ArmSummary(n, mean, sd, low, high)


def _wilson(p: float, n: int, alpha: float) -> tuple[float, float]:
    z = float(sps.norm.ppf(1 - alpha / 2))
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def compare(
    control: np.ndarray, treatment: np.ndarray, alpha: float, proportion: bool
) -> TestResult:
    """Treatment minus control: difference, interval, p-value and MDE.

    With fewer than two observations in an arm nothing can be tested: p = 1 and the
    minimum detectable effect is infinite.
    """
    n_c, n_t = int(control.size), int(treatment.size)
    mean_c = float(np.mean(control)) if n_c else 0.0
    mean_t = float(np.mean(treatment)) if n_t else 0.0
    difference = mean_t - mean_c
    relative = 100.0 * difference / mean_c if mean_c != 0 else 0.0
    test = "two_proportion_z" if proportion else "welch_t"
    if n_c < 2 or n_t < 2:
        return TestResult(difference, relative, -math.inf, math.inf, 1.0, test, math.inf)
    z_alpha = float(sps.norm.ppf(1 - alpha / 2))
    z_power = float(sps.norm.ppf(POWER))
    if proportion:
        pooled = (mean_c * n_c + mean_t * n_t) / (n_c + n_t)
        se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
        se = math.sqrt(mean_c * (1 - mean_c) / n_c + mean_t * (1 - mean_t) / n_t)
        p_value = 2 * float(sps.norm.sf(abs(difference) / se_pooled)) if se_pooled > 0 else 1.0
        half = z_alpha * se
        mde = (z_alpha + z_power) * se_pooled if se_pooled > 0 else math.inf
        return TestResult(
            difference, relative, difference - half, difference + half, p_value, test, mde
        )
    var_c = float(np.var(control, ddof=1))
    var_t = float(np.var(treatment, ddof=1))
    se = math.sqrt(var_c / n_c + var_t / n_t)
    if se == 0:
        # Both arms constant: identical means are no evidence, different ones are certain.
        p_value = 1.0 if difference == 0 else 0.0
        return TestResult(difference, relative, difference, difference, p_value, test, 0.0)
    p_value = float(sps.ttest_ind(treatment, control, equal_var=False).pvalue)
    df = _welch_df(var_c, n_c, var_t, n_t)
    half = float(sps.t.ppf(1 - alpha / 2, df)) * se
    mde = (float(sps.t.ppf(1 - alpha / 2, df)) + float(sps.t.ppf(POWER, df))) * se
    return TestResult(
        difference, relative, difference - half, difference + half, p_value, test, mde
    )


def _welch_df(var_c: float, n_c: int, var_t: float, n_t: int) -> float:
    a, b = var_c / n_c, var_t / n_t
    denominator = a * a / (n_c - 1) + b * b / (n_t - 1)
    return (a + b) ** 2 / denominator if denominator > 0 else float(n_c + n_t - 2)


def sample_ratio_mismatch(exposures: Sequence[int], weights: Sequence[float]) -> SrmResult:
    """Chi-square of exposure counts against normalised weights; alarm at p < 0.001."""
    observed = np.asarray(exposures, dtype=float)
    total = observed.sum()
    if total == 0 or len(observed) < 2:
        return SrmResult(0.0, 1.0, False)
    expected = np.asarray(weights, dtype=float)
    expected = expected / expected.sum() * total
    result = sps.chisquare(observed, expected)
    p_value = float(result.pvalue)
    return SrmResult(float(result.statistic), p_value, p_value < SRM_ALPHA)


def sequential_p_value(
    values: np.ndarray,
    is_treatment: np.ndarray,
    proportion: bool,
    mixing_sd: float = DEFAULT_MIXING_SD,
    burn_in: int = SEQUENTIAL_BURN_IN,
) -> float:
    """Always-valid p-value of "treatment mean == control mean" (two-sided mSPRT).

    ``values`` are both arms' observations in arrival order and ``is_treatment``
    says which arm each belongs to. After each observation n (once both arms have
    ``burn_in`` observations) the estimate d = difference / sd has variance
    v = 1/n_c + 1/n_t; with a N(0, mixing_sd^2) mixture over the true d,

        Lambda_n = sqrt(v / (v + mixing_sd^2)) * exp(mixing_sd^2 d^2 / (2 v (v + mixing_sd^2)))

    and the p-value is min(1, min over n of 1 / Lambda_n). ``mixing_sd`` is the
    standardised effect size the test is most sensitive to around.
    """
    values = np.asarray(values, dtype=float)
    treated = np.asarray(is_treatment, dtype=bool)
    if values.size == 0:
        return 1.0
    # Variance is shift-invariant; centring keeps the running sums of squares accurate.
    centred = values - float(np.mean(values))
    control = ~treated
    n_t = np.cumsum(treated)
    n_c = np.cumsum(control)
    sum_t = np.cumsum(np.where(treated, centred, 0.0))
    sum_c = np.cumsum(np.where(control, centred, 0.0))
    valid = (n_t >= max(burn_in, 2)) & (n_c >= max(burn_in, 2))
    if not np.any(valid):
        return 1.0
    n_t, n_c, sum_t, sum_c = n_t[valid], n_c[valid], sum_t[valid], sum_c[valid]
    mean_t, mean_c = sum_t / n_t, sum_c / n_c
    if proportion:
        raw_t = np.cumsum(np.where(treated, values, 0.0))[valid] / n_t
        raw_c = np.cumsum(np.where(control, values, 0.0))[valid] / n_c
        pooled = (raw_t * n_t + raw_c * n_c) / (n_t + n_c)
        variance = pooled * (1 - pooled)
    else:
        sq_t = np.cumsum(np.where(treated, centred * centred, 0.0))[valid]
        sq_c = np.cumsum(np.where(control, centred * centred, 0.0))[valid]
        ss = (sq_t - n_t * mean_t**2) + (sq_c - n_c * mean_c**2)
        variance = np.maximum(ss, 0.0) / (n_t + n_c - 2)
    usable = variance > 0
    if not np.any(usable):
        return 1.0
    d = (mean_t - mean_c)[usable] / np.sqrt(variance[usable])
    v = (1.0 / n_t + 1.0 / n_c)[usable]
    tau2 = mixing_sd * mixing_sd
    log_lambda = 0.5 * np.log(v / (v + tau2)) + tau2 * d * d / (2 * v * (v + tau2))
    return float(min(1.0, math.exp(-float(np.max(log_lambda)))))

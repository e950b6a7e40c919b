"""From an audit's sample to the whole cohort: a stratified proportion with its 95% interval.

For one answer (say "yes" to "a parent has a personality disorder"), stratum h has N_h children in
the cohort, n_h of its sampled children answered, and x_h of those gave the answer. Then

    estimate      p = sum W_h p_h, with W_h = N_h / N and p_h = x_h / n_h (the stratified estimator)
    its variance  v = sum W_h^2 (1 - n_h / N_h) p_h (1 - p_h) / (n_h - 1)

(Cochran 1977, Sampling Techniques, 3rd ed., ch. 3 and 5; Lohr 2022, Sampling: Design and
Analysis, 3rd ed., ch. 3). (1 - n_h / N_h) is the finite-population correction: an audit often reads
a large share of a small cohort, and a stratum read in full adds no uncertainty at all.

The interval is a **Wilson score interval on the effective sample size** (Kish): n_eff = p (1 - p) / v,
so it includes the finite-population correction and the stratum weights, and is then narrowed to
the design's degrees of freedom, n_eff (z / t_df)^2 with df = n - (strata sampled), as Korn and
Graubard (1998, Survey Methodology 24:193) do for Clopper-Pearson. Why not the normal p ± 1.96 sqrt(v):
at the proportions an audit looks for (10–30%) in samples of 30–60 the normal interval covers the
truth too rarely and can reach below 0; the Wilson interval keeps close to 95% and inside [0, 1]
(Newcombe 1998, Stat Med 17:857; for survey designs Dean and Pagano 2015, J Surv Stat Methodol 3:484).
When v is 0 (every stratum all one answer) n_eff is the design's own, 1 / sum W_h^2 (1 - f_h) / (n_h - 1),
the effective size with the spread at its largest; a cohort read in full gives [p, p].

No estimate while a stratum of the cohort has no answered child yet (its weight would be left out),
and no interval while a stratum that is not read in full has only one (its spread is unknown).

A difference between the cohort and the comparison sample (independent samples of different
children) uses Newcombe's hybrid score method (1998, Stat Med 17:873, method 10) on the two intervals.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from queries.stats.distributions import t_ppf

Z95 = NormalDist().inv_cdf(0.975)


def wilson_bounds(p, n_eff, z: float = Z95):
    """Wilson score bounds for a proportion p on n_eff (effective) observations; arrays broadcast."""
    p, m = np.broadcast_arrays(np.asarray(p, float), np.asarray(n_eff, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = 1 + z * z / m
        centre = (p + z * z / (2 * m)) / denominator
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denominator
    low = np.where(p <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(p >= 1, 1.0, np.clip(centre + half, 0.0, 1.0))
    exact = np.isinf(m)
    return np.where(exact, p, low), np.where(exact, p, high)


def stratified_proportions(cohort_sizes, answered, counts, z: float = Z95):
    """Vectorised: strata along the last axis; (estimate, standard error, low, high), nan where not estimable.

    `cohort_sizes` N_h, `answered` n_h and `counts` x_h broadcast together (e.g. N_h of shape (H,) with
    n_h and x_h of shape (draws, H) in a simulation). Proportions, not percentages.
    """
    N, n, x = (np.asarray(a, float) for a in (cohort_sizes, answered, counts))
    N, n, x = np.broadcast_arrays(N, n, x)
    if np.any(n > N) or np.any(x > n) or np.any(x < 0):
        raise ValueError("need 0 <= count <= answered <= cohort size in every stratum")
    present = N > 0
    weight = N / N.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(present, x / n, 0.0)
        fpc = np.where(present, 1 - n / N, 0.0)
        sampled = fpc > 0  # strata not read in full
        per_unit = np.where(sampled & (n > 1), weight**2 * fpc / (n - 1), 0.0)  # a lone stratum: `lone` below
    estimate = (weight * share).sum(axis=-1)
    variance = (per_unit * share * (1 - share)).sum(axis=-1)
    design = per_unit.sum(axis=-1)  # the variance per unit of p(1 - p)
    unread = (present & (n < 1)).any(axis=-1)
    lone = (sampled & (n < 2)).any(axis=-1)
    degrees = np.maximum(n.sum(axis=-1) - sampled.sum(axis=-1), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(variance > 0, estimate * (1 - estimate) / variance, 1 / design)
        n_eff = n_eff * (z / t_ppf(NormalDist().cdf(z), degrees)) ** 2
    n_eff = np.where(design > 0, n_eff, np.inf)
    low, high = wilson_bounds(estimate, n_eff, z)
    nan = np.nan
    estimate = np.where(unread, nan, estimate)
    no_interval = unread | lone
    return (
        estimate,
        np.where(no_interval, nan, np.sqrt(variance)),
        np.where(no_interval, nan, low),
        np.where(no_interval, nan, high),
    )


def stratified_proportion(cohort_sizes, answered, counts) -> tuple[float, float, float, float]:
    """One answer's (estimate, standard error, low, high); nan where not estimable (see the module)."""
    return tuple(float(v) for v in stratified_proportions(cohort_sizes, answered, counts))


def difference_interval(p1, low1, high1, p2, low2, high2) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score interval from the two groups' own intervals (nan stays nan)."""
    difference = p1 - p2
    low = difference - np.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    high = difference + np.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return float(difference), float(low), float(high)


def stratified_mean(cohort_sizes, values_by_stratum, z: float = Z95) -> tuple[float, float, float, float]:
    """A number question's cohort mean from each stratum's answers: (estimate, standard error, low, high).

    estimate  sum W_h ybar_h;  variance  sum W_h^2 (1 - n_h / N_h) s_h^2 / n_h  (Cochran 1977, 5.3 and 5.4)
    with the interval estimate ± t * se on Satterthwaite's degrees of freedom (Cochran 1977, 5A.42):
    df = (sum a_h s_h^2)^2 / sum (a_h s_h^2)^2 / (n_h - 1), a_h = W_h^2 (1 - f_h) / n_h. A stratum read in
    full adds nothing; nan when a stratum has no answer (no estimate) or one answer and is not read in full.
    """
    N = np.asarray(cohort_sizes, float)
    n = np.array([len(v) for v in values_by_stratum], float)
    present = N > 0
    if np.any(present & (n < 1)):
        return (math.nan,) * 4
    weight = N / N.sum()
    means = np.array([np.mean(v) if len(v) else 0.0 for v in values_by_stratum])
    estimate = float((weight * means).sum())
    fpc = np.where(present, 1 - n / N, 0.0)
    sampled = fpc > 0
    if np.any(sampled & (n < 2)):
        return estimate, math.nan, math.nan, math.nan
    spread = np.array([np.var(v, ddof=1) if len(v) > 1 else 0.0 for v in values_by_stratum])
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = np.where(sampled, weight**2 * fpc * spread / n, 0.0)
        denominator = np.where(sampled, parts**2 / (n - 1), 0.0).sum()
    se = float(math.sqrt(parts.sum()))
    if se == 0:
        return estimate, 0.0, estimate, estimate
    degrees = parts.sum() ** 2 / denominator
    half = float(t_ppf(NormalDist().cdf(z), degrees)) * se
    return estimate, se, estimate - half, estimate + half

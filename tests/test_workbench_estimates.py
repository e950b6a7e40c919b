"""The audit estimate and its 95% interval: worked by hand, and checked against simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.estimates import difference_interval, stratified_proportion, stratified_proportions, wilson_bounds
from workbench.sampling import allocate


def test_simple_random_sample_with_the_finite_population_correction():
    """An SRS example after Cochran (1977, Sampling Techniques, 3rd ed., §3.4): of 3042 addresses, 200 sampled,
    38 wrong. By hand: p = 38/200 = 0.19; v = (1 - 200/3042) * 0.19 * 0.81 / 199 = 0.00072252;
    standard error 0.026880, so the estimated total is 3042 * 0.19 = 578 wrong addresses, standard error 81.8."""
    p, se, low, high = stratified_proportion([3042], [200], [38])
    assert p == pytest.approx(0.19)
    assert se == pytest.approx(0.026880, abs=5e-7)
    assert 3042 * p == pytest.approx(578, abs=0.5) and 3042 * se == pytest.approx(81.8, abs=0.05)
    # Wilson on n_eff = 0.19 * 0.81 / 0.00072252 = 213.00, times (1.95996 / t_199 = 1.97196)^2 = 210.42 (by hand):
    assert (low, high) == pytest.approx((0.14274, 0.24838), abs=5e-5)


def test_stratified_example_worked_by_hand():
    """Two strata of 15 children (the stratified estimator and variance of Cochran 1977 ch. 5; Lohr 2022 ch. 3).

    Girls: 5 read, 2 yes (0.4); boys: 5 read, 1 yes (0.2); W = 0.5 each.
    p = 0.5 * 0.4 + 0.5 * 0.2 = 0.30
    v = 0.25 * (1 - 5/15) * 0.4 * 0.6 / 4 + 0.25 * (1 - 5/15) * 0.2 * 0.8 / 4 = 0.01 + 0.0066667 = 0.0166667
    n_eff = 0.3 * 0.7 / 0.0166667 = 12.6; df = 10 - 2 = 8, t_8 = 2.306004; 12.6 * (1.959964 / 2.306004)^2 = 9.1022
    Wilson(0.3, 9.1022): centre (0.3 + 3.841459 / 18.2044) / (1 + 3.841459 / 9.1022) = 0.35936,
    half-width 1.959964 * sqrt(0.21 / 9.1022 + 3.841459 / (4 * 9.1022^2)) / 1.42204 = 0.25661.
    """
    p, se, low, high = stratified_proportion([15, 15], [5, 5], [2, 1])
    assert p == pytest.approx(0.30)
    assert se == pytest.approx(math.sqrt(0.0166667), abs=1e-6)
    assert (low, high) == pytest.approx((0.35936 - 0.25661, 0.35936 + 0.25661), abs=1e-4)


def test_weights_not_the_raw_sample_share():
    """A small stratum sampled more heavily counts for its share of the cohort, not of the sample."""
    p, *_ = stratified_proportion([90, 10], [9, 9], [0, 9])  # raw share 50%; the cohort's 10%
    assert p == pytest.approx(0.10)


def test_a_cohort_read_in_full_has_no_sampling_error():
    assert stratified_proportion([12, 8], [12, 8], [3, 2]) == pytest.approx((0.25, 0.0, 0.25, 0.25))


def test_no_yes_in_the_sample_still_has_an_upper_limit():
    p, se, low, high = stratified_proportion([100], [20], [0])
    assert (p, se, low) == (0.0, 0.0, 0.0)
    assert 0.10 < high < 0.20  # Wilson on the design's n_eff = 19 / 0.8 = 23.75, narrowed to df 19


def test_a_stratum_not_yet_read_gives_no_estimate_and_a_lone_one_no_interval():
    assert all(math.isnan(v) for v in stratified_proportion([50, 50], [10, 0], [3, 0]))
    p, se, low, high = stratified_proportion([50, 50], [10, 1], [3, 1])
    assert p == pytest.approx(0.5 * 0.3 + 0.5 * 1.0)
    assert math.isnan(se) and math.isnan(low) and math.isnan(high)


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        stratified_proportion([10], [5], [6])
    with pytest.raises(ValueError):
        stratified_proportion([10], [11], [1])


def test_wilson_bounds_match_the_plain_wilson_interval_on_whole_counts():
    from queries.stats import wilson_interval

    assert wilson_bounds(7 / 30, 30) == pytest.approx(wilson_interval(7, 30))


def test_difference_uses_newcombe_on_the_two_intervals():
    """Newcombe (1998) method 10 with two Wilson intervals, as queries.stats gives it for whole counts."""
    from queries.stats import newcombe_difference_interval, wilson_interval

    low1, high1 = wilson_interval(12, 40)
    low2, high2 = wilson_interval(5, 50)
    assert difference_interval(0.3, low1, high1, 0.1, low2, high2) == pytest.approx(
        newcombe_difference_interval(12, 40, 5, 50)
    )


COHORTS = {
    # stratum sizes N_h, children with the answer in each K_h, sample size: the truth is sum K / sum N
    "three strata of 10%, 20% and 40%": ([60, 150, 90], [6, 30, 36], 40),
    "one stratum, 20%": ([300], [60], 40),
    "two strata, a rare answer (5% and 20%)": ([500, 500], [25, 100], 60),
}


@pytest.mark.parametrize("cohort", COHORTS, ids=list(COHORTS))
def test_the_interval_covers_the_truth_about_95_percent_of_the_time(cohort):
    """2000 stratified samples (proportional allocation, without replacement) from a known cohort.

    A stratum's count in a simple random sample without replacement is hypergeometric, so each draw
    is exactly what an audit of that cohort could have found.
    """
    sizes, with_answer, size = COHORTS[cohort]
    allocation = allocate({str(h): n for h, n in enumerate(sizes)}, size)
    sampled = np.array([allocation[str(h)] for h in range(len(sizes))])
    rng = np.random.default_rng(2026)
    counts = rng.hypergeometric(with_answer, np.subtract(sizes, with_answer), sampled, size=(2000, len(sizes)))
    estimate, _, low, high = stratified_proportions(sizes, np.broadcast_to(sampled, counts.shape), counts)
    truth = sum(with_answer) / sum(sizes)
    assert abs(estimate.mean() - truth) < 0.005  # unbiased
    coverage = np.mean((low <= truth) & (truth <= high))
    assert 0.93 <= coverage <= 0.97, coverage


def test_the_normal_interval_would_cover_too_rarely_here():
    """Why Wilson: for a rare answer in a small sample the normal interval p ± 1.96 se falls short of 95%."""
    sizes, size = [300], 40
    rng = np.random.default_rng(7)
    counts = rng.hypergeometric(15, 285, 40, size=(2000, 1))
    estimate, se, low, high = stratified_proportions(sizes, np.full((2000, 1), size), counts)
    truth = 15 / 300
    normal = np.mean((estimate - 1.96 * se <= truth) & (truth <= estimate + 1.96 * se))
    wilson = np.mean((low <= truth) & (truth <= high))
    assert normal < 0.90 < 0.93 <= wilson


# --- a number question's mean ------------------------------------------------------------------------


def test_stratified_mean_worked_by_hand():
    """Two strata of 15: girls read 1 2 3 4 5 (mean 3, s^2 2.5), boys 2 2 4 4 8 (mean 4, s^2 6); W = 0.5, f = 1/3.

    mean = 3.5; v = 0.25 * (2/3) * 2.5 / 5 + 0.25 * (2/3) * 6 / 5 = 0.083333 + 0.2 = 0.283333, se 0.532291.
    Satterthwaite df = 0.283333^2 / (0.083333^2 / 4 + 0.2^2 / 4) = 6.8402; t(0.975, 6.8402) = 2.37587 (between the tables' 2.4469 at 6 and 2.3646 at 7).
    """
    from workbench.estimates import stratified_mean

    mean, se, low, high = stratified_mean([15, 15], [[1, 2, 3, 4, 5], [2, 2, 4, 4, 8]])
    assert mean == pytest.approx(3.5) and se == pytest.approx(0.532291, abs=1e-6)
    assert (low, high) == pytest.approx((3.5 - 2.37587 * 0.532291, 3.5 + 2.37587 * 0.532291), abs=2e-4)


def test_stratified_mean_of_a_census_and_of_an_unread_stratum():
    from workbench.estimates import stratified_mean

    assert stratified_mean([3, 2], [[1, 2, 3], [10, 20]]) == pytest.approx((0.6 * 2 + 0.4 * 15, 0, 7.2, 7.2))
    assert all(math.isnan(v) for v in stratified_mean([10, 10], [[1, 2], []]))
    mean, se, low, high = stratified_mean([10, 10], [[1, 2], [4]])  # a lone answer in a sampled stratum
    assert mean == pytest.approx(0.5 * 1.5 + 0.5 * 4) and all(math.isnan(v) for v in (se, low, high))


def test_the_mean_interval_covers_the_truth_about_95_percent_of_the_time():
    """2000 stratified samples of 40 (proportional) from a known cohort of home-visit counts in three strata."""
    from workbench.estimates import stratified_mean

    rng = np.random.default_rng(2026)
    strata = [rng.poisson(lam, size) for lam, size in ((3, 60), (6, 150), (10, 90))]
    allocation = allocate({str(h): len(s) for h, s in enumerate(strata)}, 40)
    truth = np.concatenate(strata).mean()
    hits = 0
    for _ in range(2000):
        drawn = [rng.choice(s, allocation[str(h)], replace=False) for h, s in enumerate(strata)]
        _, _, low, high = stratified_mean([len(s) for s in strata], drawn)
        hits += low <= truth <= high
    assert 0.93 <= hits / 2000 <= 0.97, hits / 2000

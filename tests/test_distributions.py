"""queries.stats.distributions gives scipy.stats' numbers bit for bit, from scipy.special alone.

Each function against the scipy.stats method it stands in for, over many random arguments and the edges
(outside the support, probabilities 0 and 1, infinities, nan): `np.array_equal`, not a tolerance. And the
questions' own helpers that used scipy.stats (funnel limits, the log-rank test, the one-sided Fisher test,
Poisson rate intervals, the NEET model's Wald p-values and DeLong test) against scipy.stats' formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from queries.models.neet_model import delong_difference
from queries.models.outcomes import poisson_rate_interval
from queries.stats import distributions as dist
from queries.stats import fisher_exact_p_values, funnel_limits, logrank_test, overdispersion

N = 20_000


@pytest.fixture
def rng():
    return np.random.default_rng(20261202)


def same(ours, theirs) -> bool:
    return bool(np.array_equal(np.asarray(ours), np.asarray(theirs), equal_nan=True))


def test_normal_tail_and_quantile(rng):
    x = np.r_[rng.normal(0, 4, N), 0.0, -0.0, np.inf, -np.inf, np.nan, 40, -40]
    q = np.r_[rng.random(N), 0, 1, 1e-300, 1 - 1e-16, -0.1, 1.1, np.nan]
    assert same(dist.normal_sf(x), scipy_stats.norm.sf(x))
    assert same(dist.normal_ppf(q), scipy_stats.norm.ppf(q))
    assert dist.normal_ppf(0.975) == scipy_stats.norm.ppf(0.975)


def test_chi_square_tail(rng):
    df = rng.integers(1, 60, N + 7)
    x = np.r_[rng.exponential(20, N), 0, -1e-17, -3, np.inf, np.nan, 1e4, 1e-300]
    assert same(dist.chi2_sf(x, df), scipy_stats.chi2.sf(x, df))
    assert dist.chi2_sf(3.2, 2) == scipy_stats.chi2.sf(3.2, 2)  # scalars, as the log-rank test passes them


def test_gamma_quantile_is_half_the_chi_square_quantile(rng):
    shape, q = rng.integers(1, 5000, N), rng.random(N)
    assert same(dist.gamma_ppf(q, shape), scipy_stats.chi2.ppf(q, 2 * shape) / 2)


def test_student_t_quantile(rng):
    df = np.r_[rng.integers(1, 300, N // 2), rng.uniform(0.5, 80, N // 2), 1, 2, 1e6, np.inf, 3, 3, 3]
    q = np.r_[rng.random(N), 0.975, 0.5, 0.6, 0.9, 0, 1, -0.1]
    assert same(dist.t_ppf(q, df), scipy_stats.t.ppf(q, df))


def test_binomial_cdf_and_quantile(rng):
    n = rng.integers(0, 3000, N).astype(float)
    p = rng.random(N)
    k = np.floor(rng.uniform(-0.1, 1.1, N) * (n + 2)) - 1
    assert same(dist.binom_cdf(k, n, p), scipy_stats.binom.cdf(k, n, p))
    for q in (0, 1e-9, 0.001, 0.025, 0.5, 0.975, 0.999, 1):
        assert same(dist.binom_ppf(q, n, p), scipy_stats.binom.ppf(q, n, p)), q
    q = rng.random(N)
    assert same(dist.binom_ppf(q, n, p), scipy_stats.binom.ppf(q, n, p))


def test_hypergeometric_tail_and_log_probability(rng):
    for _ in range(3000):
        total = int(rng.integers(1, 500))
        good, drawn = (int(v) for v in rng.integers(0, total + 1, 2))
        k = np.arange(-2, min(good, drawn) + 2)
        assert same(dist.hypergeom_sf(k, total, good, drawn), scipy_stats.hypergeom.sf(k, total, good, drawn))
        support = np.arange(max(0, drawn - (total - good)), min(good, drawn) + 1)
        logpmf = scipy_stats.hypergeom.logpmf(support, total, good, drawn)
        assert same(dist.hypergeom_logpmf(support, total, good, drawn), logpmf)


def test_average_ranks(rng):
    for _ in range(2000):
        values = rng.integers(0, rng.integers(1, 30), rng.integers(0, 60)) / 7
        assert same(dist.average_ranks(values), scipy_stats.rankdata(values))
    assert same(dist.average_ranks([0.3, np.nan, 0.1]), scipy_stats.rankdata([0.3, np.nan, 0.1]))


# ---- the questions' helpers, against what they computed with scipy.stats ------------------------------------


def test_exact_funnel_limits_as_with_scipy_stats(rng):
    n = np.r_[0, 1, rng.integers(1, 5000, 300)]
    for p0 in (0.003, 0.21, 0.5, 0.97):
        frame = funnel_limits(p0, n)
        for level in (0.95, 0.998):
            rows = frame.filter(frame["level"] == level)
            for tail, column in (((1 - level) / 2, "lower"), ((1 + level) / 2, "upper")):
                r = scipy_stats.binom.ppf(tail, n, p0)
                cdf_r, cdf_below = scipy_stats.binom.cdf(r, n, p0), scipy_stats.binom.cdf(r - 1, n, p0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    limit = (r - (cdf_r - tail) / (cdf_r - cdf_below)) / n
                expected = np.where(n == 0, np.nan, np.clip(limit, 0, 1))
                assert same(rows[column].to_numpy(), expected), (p0, level, column)


def test_overdispersion_and_logrank_p_values_as_with_scipy_stats(rng):
    n = rng.integers(20, 2000, 40)
    events = rng.binomial(n, 0.2)
    result = overdispersion(events, n, 0.2)
    assert result["p_value"] == scipy_stats.chi2.sf(result["chi_square"], result["df"])
    durations, observed, groups = rng.integers(1, 400, 600), rng.integers(0, 2, 600), rng.integers(0, 3, 600)
    chi2, df, p = logrank_test(durations, observed, groups)
    assert df == 2 and p == scipy_stats.chi2.sf(chi2, df)


def test_one_sided_fisher_as_with_scipy_stats(rng):
    a, b, c, d = (rng.integers(0, 60, 400) for _ in range(4))
    ours = fisher_exact_p_values(a, b, c, d, alternative="greater")
    # what the question computed before (the upper hypergeometric tail), and scipy's own one-sided test
    tail = [
        min(1.0, scipy_stats.hypergeom.sf(w - 1, w + x + y + z, w + y, w + x))
        for w, x, y, z in zip(a, b, c, d, strict=True)
    ]
    assert same(ours, tail)
    test = [
        scipy_stats.fisher_exact([[w, x], [y, z]], alternative="greater").pvalue
        for w, x, y, z in zip(a, b, c, d, strict=True)
    ]
    np.testing.assert_allclose(ours, test, rtol=1e-12)


def test_poisson_rate_interval_as_with_scipy_stats():
    for events, exposure in ((0, 50), (1, 50), (7, 1200), (340, 10_000)):
        alpha = 1 - 0.95  # as the question computes it (not quite 0.05)
        low = scipy_stats.chi2.ppf(alpha / 2, 2 * events) / 2 if events else 0.0
        high = scipy_stats.chi2.ppf(1 - alpha / 2, 2 * (events + 1)) / 2
        assert poisson_rate_interval(events, exposure) == (100 * low / exposure, 100 * high / exposure)


def test_delong_as_with_scipy_stats(rng):
    labels = rng.integers(0, 2, 500).astype(bool)
    score_a = np.round(rng.random(500) + labels * 0.3, 2)  # rounded: ties, as risk scores have
    score_b = np.round(rng.random(500) + labels * 0.1, 2)
    diff, se, low, high, p = delong_difference(score_a, score_b, labels)
    z = scipy_stats.norm.ppf(0.975)
    assert (low, high) == (diff - z * se, diff + z * se)
    assert p == 2 * scipy_stats.norm.sf(abs(diff) / se)
    aucs = [
        (
            scipy_stats.rankdata(np.r_[s[labels], s[~labels]])[: labels.sum()].sum()
            - labels.sum() * (labels.sum() + 1) / 2
        )
        / (labels.sum() * (~labels).sum())
        for s in (score_a, score_b)
    ]
    assert diff == aucs[0] - aucs[1]

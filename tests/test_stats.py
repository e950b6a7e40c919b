"""queries.stats against published reference values (typed in with their citations) and edge cases."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats as scipy_stats
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from queries.stats import (
    adjusted_funnel_limits,
    auc_with_ci,
    benjamini_hochberg,
    bh_discoveries,
    brier_score,
    fisher_exact_p,
    fisher_exact_p_values,
    funnel_limits,
    hanley_mcneil_se,
    kaplan_meier,
    km_median,
    logrank_test,
    mase,
    newcombe_difference_interval,
    overdispersion,
    relative_lift,
    wilson_interval,
    wilson_intervals,
)

# --- Wilson score interval -------------------------------------------------------------------------

# Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of seven
# methods. Stat Med 17:857-872, Table I, method 3 (Wilson score, no continuity correction), 95%.
NEWCOMBE_1998A_WILSON = [
    # (successes, n, low, high)
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("successes", "n", "low", "high"), NEWCOMBE_1998A_WILSON)
def test_wilson_matches_newcombe_table_1(successes, n, low, high):
    got_low, got_high = wilson_interval(successes, n)
    assert round(got_low, 4) == low
    assert round(got_high, 4) == high


def test_wilson_vectorised_matches_scalar_and_statsmodels():
    successes = pl.Series([81, 15, 0, 1, 7, 12])
    totals = pl.Series([263, 148, 20, 29, 7, 40])
    lows, highs = wilson_intervals(successes, totals, confidence=0.9)
    for i, (x, n) in enumerate(zip(successes, totals, strict=True)):
        assert (lows[i], highs[i]) == pytest.approx(wilson_interval(x, n, confidence=0.9), abs=1e-15)
    sm_low, sm_high = proportion_confint(successes.to_numpy(), totals.to_numpy(), alpha=0.1, method="wilson")
    np.testing.assert_allclose(lows, sm_low, atol=1e-12)
    np.testing.assert_allclose(highs, sm_high, atol=1e-12)


def test_wilson_edges():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson_interval(10, 10)
    assert high == 1.0 and round(low, 4) == 0.7225  # mirror image of 0/10
    lows, highs = wilson_intervals([0, 3], [0, 3])
    assert math.isnan(lows[0]) and math.isnan(highs[0]) and highs[1] == 1.0
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        wilson_interval(-1, 4)


# --- Newcombe difference interval ------------------------------------------------------------------

# Newcombe RG (1998). Interval estimation for the difference between independent proportions:
# comparison of eleven methods. Stat Med 17:873-890, Table II, method 10 (score, no CC), 95%.
# Row (c) 6/7 - 2/7: our lower limit is 0.0582, not the 0.0381 quoted in the brief; 0.0381 is
# (minus) the lower limit of row (d), 5/56 - 0/29, which we reproduce as -0.0381.
NEWCOMBE_1998B_METHOD_10 = [
    # (x1, n1, x2, n2, diff, low, high)
    (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.5714, 0.0582, 0.8062),
    (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),
]


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "diff", "low", "high"), NEWCOMBE_1998B_METHOD_10)
def test_newcombe_matches_table_2(x1, n1, x2, n2, diff, low, high):
    got = newcombe_difference_interval(x1, n1, x2, n2)
    assert [round(v, 4) for v in got] == [diff, low, high]


def test_newcombe_zero_and_full_rows_follow_from_wilson_limits():
    # Both proportions 0: the limits are -(upper Wilson limit of group 2) and +(upper of group 1).
    diff, low, high = newcombe_difference_interval(0, 10, 0, 20)
    assert diff == 0.0
    assert low == pytest.approx(-wilson_interval(0, 20)[1], abs=1e-15)
    assert high == pytest.approx(wilson_interval(0, 10)[1], abs=1e-15)
    assert (round(low, 4), round(high, 4)) == (-0.1611, 0.2775)
    diff, low, high = newcombe_difference_interval(10, 10, 0, 20)
    assert (diff, round(low, 4), high) == (1.0, 0.6791, 1.0)


def test_newcombe_edges_and_arrays():
    assert all(math.isnan(v) for v in newcombe_difference_interval(0, 0, 3, 10))
    diffs, lows, highs = newcombe_difference_interval(np.array([56, 9]), np.array([70, 10]), [48, 3], [80, 10])
    np.testing.assert_allclose(np.round(lows, 4), [0.0524, 0.1705])
    np.testing.assert_allclose(np.round(highs, 4), [0.3339, 0.8090])
    np.testing.assert_allclose(diffs, [0.2, 0.6])


# --- Fisher exact test -----------------------------------------------------------------------------


def test_fisher_tea_tasting():
    # Fisher (1935), The Design of Experiments, the lady tasting tea: [[3, 1], [1, 3]].
    # With all margins 4 the table probabilities are 1, 16, 36, 16, 1 (/70); two-sided p = 34/70.
    assert round(fisher_exact_p(3, 1, 1, 3), 4) == 0.4857
    assert fisher_exact_p(3, 1, 1, 3) == pytest.approx(34 / 70, abs=1e-12)
    assert fisher_exact_p(4, 0, 0, 4) == pytest.approx(2 / 70, abs=1e-12)


def test_fisher_vectorised():
    a, b, c, d = [3, 4, 3, 0, 10], [1, 0, 1, 0, 2], [1, 0, 1, 0, 3], [3, 4, 3, 0, 9]
    p = fisher_exact_p_values(pl.Series(a), b, c, d)
    expected = [fisher_exact_p(*row) for row in zip(a, b, c, d, strict=True)]
    np.testing.assert_allclose(p, expected, rtol=1e-9)  # sums of log-gamma probabilities vs scipy's search
    assert p[0] == pytest.approx(34 / 70, abs=1e-12)  # Fisher's lady tasting tea
    assert p[1] == pytest.approx(2 / 70, abs=1e-12)
    assert p[3] == 1.0  # an empty table carries no evidence
    assert fisher_exact_p_values([], [], [], []).size == 0
    with pytest.raises(ValueError):
        fisher_exact_p(-1, 2, 3, 4)
    with pytest.raises(ValueError):
        fisher_exact_p_values([1, 2], [1], [1], [1])


# --- Benjamini-Hochberg ----------------------------------------------------------------------------

# Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate. JRSS B 57:289-300, section 4.2:
# 15 p-values from a myocardial infarction trial; BH at q* = 0.05 rejects the 4 smallest.
BH_1995_P_VALUES = [
    0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
    0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000,
]  # fmt: skip
BH_1995_DISCOVERIES_AT_005 = 4


def test_bh_reference_example():
    rejected = bh_discoveries(BH_1995_P_VALUES, alpha=0.05)
    assert rejected.sum() == BH_1995_DISCOVERIES_AT_005
    assert rejected[:4].all()
    shuffled = np.array(BH_1995_P_VALUES)[::-1]
    assert bh_discoveries(pl.Series(shuffled), alpha=0.05)[-4:].all()


def test_bh_q_values_match_statsmodels():
    rng = np.random.default_rng(7)
    for p in (np.array(BH_1995_P_VALUES), rng.uniform(size=40) ** 3, np.array([0.01, 0.01, 0.04, 0.04])):
        rng.shuffle(p)
        reject, q_expected, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
        q = benjamini_hochberg(p)
        np.testing.assert_allclose(q, q_expected, rtol=1e-12)
        np.testing.assert_array_equal(bh_discoveries(p, 0.05), reject)
        order = np.argsort(p)
        assert np.all(np.diff(q[order]) >= 0)
        assert q.max() <= 1.0


def test_bh_edges():
    np.testing.assert_array_equal(benjamini_hochberg([1.0, 1.0, 1.0]), [1.0, 1.0, 1.0])
    assert not bh_discoveries([1.0, 1.0, 1.0]).any()
    assert benjamini_hochberg([]).size == 0
    q = benjamini_hochberg([0.01, np.nan, 0.04])  # nan is not counted in m = 2
    np.testing.assert_allclose(q, [0.02, np.nan, 0.04])
    assert bh_discoveries([0.01, np.nan, 0.04]).tolist() == [True, False, True]
    with pytest.raises(ValueError):
        benjamini_hochberg([0.5, 1.2])


# --- relative lift ---------------------------------------------------------------------------------


def test_relative_lift():
    assert relative_lift(0.3, 0.2) == pytest.approx(1.5)
    assert relative_lift(0.1, 0.0) == math.inf
    assert math.isnan(relative_lift(0.0, 0.0))
    assert relative_lift(0.0, 0.4) == 0.0
    lifts = relative_lift(np.array([0.3, 0.1, 0.0, np.nan]), np.array([0.2, 0.0, 0.0, 0.5]))
    assert lifts[0] == pytest.approx(1.5) and lifts[1] == math.inf
    assert math.isnan(lifts[2]) and math.isnan(lifts[3])
    with pytest.raises(ValueError):
        relative_lift(-0.1, 0.2)


# --- survival --------------------------------------------------------------------------------------

# Freireich EJ et al. (1963), Blood 21:699; as tabulated by Gehan EA (1965), Biometrika 52:203.
# Weeks in remission for acute leukaemia; event = relapse, 0 = censored (marked * in the source).
MP6_WEEKS = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP6_RELAPSED = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO_WEEKS = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
PLACEBO_RELAPSED = [1] * 21
MEDIAN_WEEKS_6MP, MEDIAN_WEEKS_PLACEBO = 23, 8
LOGRANK_CHI2, LOGRANK_P = 16.79, 4.2e-5


def test_freireich_medians_and_logrank():
    assert km_median(kaplan_meier(MP6_WEEKS, MP6_RELAPSED))[0] == MEDIAN_WEEKS_6MP
    assert km_median(kaplan_meier(PLACEBO_WEEKS, PLACEBO_RELAPSED))[0] == MEDIAN_WEEKS_PLACEBO
    chi2, df, p = logrank_test(
        MP6_WEEKS + PLACEBO_WEEKS, MP6_RELAPSED + PLACEBO_RELAPSED, ["6-MP"] * 21 + ["placebo"] * 21
    )
    assert round(chi2, 2) == LOGRANK_CHI2
    assert df == 1
    assert round(p, 6) == LOGRANK_P


# statsmodels itself warns about log(0) where the placebo curve reaches 0.
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize(("weeks", "relapsed"), [(MP6_WEEKS, MP6_RELAPSED), (PLACEBO_WEEKS, PLACEBO_RELAPSED)])
def test_km_matches_statsmodels(weeks, relapsed):
    table = kaplan_meier(weeks, relapsed)
    reference = SurvfuncRight(np.array(weeks, float), np.array(relapsed, float))
    at_events = table.filter(pl.col("events") > 0)
    np.testing.assert_allclose(at_events["time"].to_numpy(), reference.surv_times)
    np.testing.assert_allclose(at_events["survival"].to_numpy(), reference.surv_prob, atol=1e-10)
    # Log-log interval from statsmodels' Greenwood standard error, where 0 < S < 1.
    s, se = reference.surv_prob, reference.surv_prob_se
    inside = (s > 0) & (s < 1)
    spread = np.exp(1.959963984540054 * se[inside] / (s[inside] * np.abs(np.log(s[inside]))))
    np.testing.assert_allclose(at_events["ci_low"].to_numpy()[inside], s[inside] ** spread, atol=1e-10)
    np.testing.assert_allclose(at_events["ci_high"].to_numpy()[inside], s[inside] ** (1 / spread), atol=1e-10)
    # Median interval agrees with statsmodels' inversion of the same log-log test (inf = not reached).
    _, low, high = km_median(table)
    sm_low, sm_high = reference.quantile_ci(0.5, method="cloglog")
    assert low == sm_low
    assert (math.isnan(high) and math.isinf(sm_high)) or high == sm_high


def test_km_median_intervals_for_freireich():
    assert km_median(kaplan_meier(MP6_WEEKS, MP6_RELAPSED))[1:] == pytest.approx((13.0, math.nan), nan_ok=True)
    assert km_median(kaplan_meier(PLACEBO_WEEKS, PLACEBO_RELAPSED)) == (8.0, 4.0, 11.0)


def test_km_ties_and_columns():
    table = kaplan_meier(MP6_WEEKS, MP6_RELAPSED)
    assert table.columns == ["time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]
    first = table.row(0, named=True)  # week 6: 3 relapses and 1 censoring, all 21 at risk
    assert (first["time"], first["at_risk"], first["events"], first["censored"]) == (6, 21, 3, 1)
    assert first["survival"] == pytest.approx(18 / 21)
    second = table.row(1, named=True)  # the week-6 censoring has left the risk set
    assert (second["time"], second["at_risk"]) == (7, 17)
    assert second["survival"] == pytest.approx(18 / 21 * 16 / 17)


def test_km_plain_interval_by_hand():
    table = kaplan_meier(PLACEBO_WEEKS, PLACEBO_RELAPSED, ci_method="plain")
    row = table.row(0, named=True)  # 2 of 21 relapse in week 1
    s = 19 / 21
    se = s * math.sqrt(2 / (21 * 19))
    assert row["ci_low"] == pytest.approx(s - 1.959963984540054 * se, abs=1e-12)
    assert s + 1.959963984540054 * se > 1 and row["ci_high"] == 1.0  # clipped to [0, 1]
    row = table.row(3, named=True)  # week 4: 2 + 2 + 1 + 2 relapses so far, S = 14/21
    s = 14 / 21
    se = s * math.sqrt(2 / (21 * 19) + 2 / (19 * 17) + 1 / (17 * 16) + 2 / (16 * 14))
    assert (row["time"], row["survival"]) == (4, pytest.approx(s))
    assert row["ci_low"] == pytest.approx(s - 1.959963984540054 * se, abs=1e-12)
    assert row["ci_high"] == pytest.approx(s + 1.959963984540054 * se, abs=1e-12)
    last = table.row(-1, named=True)  # everyone has relapsed: S = 0, variance undefined
    assert last["survival"] == 0.0 and last["ci_low"] == 0.0 and math.isnan(last["ci_high"])


def test_km_aggregated_counts_equal_individual_rows():
    grouped = (
        pl.DataFrame({"weeks": MP6_WEEKS, "relapsed": MP6_RELAPSED})
        .group_by("weeks", "relapsed")
        .len("children")
        .sort("weeks", "relapsed", descending=True)
    )
    from_counts = kaplan_meier(grouped["weeks"], grouped["relapsed"], weights=grouped["children"])
    assert from_counts.equals(kaplan_meier(MP6_WEEKS, MP6_RELAPSED))
    chi2_counts = logrank_test(
        np.r_[grouped["weeks"], [8, 1]], np.r_[grouped["relapsed"], [1, 1]], ["a"] * grouped.height + ["b", "b"],
        weights=np.r_[grouped["children"], [4, 2]],
    )  # fmt: skip
    chi2_rows = logrank_test(MP6_WEEKS + [8] * 4 + [1] * 2, MP6_RELAPSED + [1] * 6, ["a"] * 21 + ["b"] * 6)
    assert chi2_counts == pytest.approx(chi2_rows, rel=1e-12)
    zero_weight = kaplan_meier([1, 2, 3], [1, 1, 0], weights=[2, 0, 1])
    assert zero_weight["time"].to_list() == [1, 3]


def test_km_group_without_events():
    table = kaplan_meier([3, 5, 5, 9], [0, 0, 0, 0])
    assert table["time"].to_list() == [3, 5, 9] and table["censored"].to_list() == [1, 2, 1]
    assert table["survival"].to_list() == [1.0] * 3
    assert table["ci_low"].to_list() == [1.0] * 3 and table["ci_high"].to_list() == [1.0] * 3
    assert all(math.isnan(v) for v in km_median(table))
    assert kaplan_meier([], []).height == 0


def test_logrank_three_groups_with_an_eventless_group_matches_statsmodels():
    weeks = MP6_WEEKS + PLACEBO_WEEKS + [4, 9, 15, 30]
    relapsed = MP6_RELAPSED + PLACEBO_RELAPSED + [0, 0, 0, 0]
    groups = np.array(["6-MP"] * 21 + ["placebo"] * 21 + ["no events"] * 4)
    chi2, df, p = logrank_test(weeks, relapsed, pl.Series(groups))
    sm_chi2, sm_p = survdiff(np.array(weeks, float), np.array(relapsed, float), groups)
    assert df == 2
    assert chi2 == pytest.approx(sm_chi2, rel=1e-10)
    assert p == pytest.approx(sm_p, rel=1e-8)


def test_logrank_edges():
    chi2, df, p = logrank_test([1, 2, 3], [0, 0, 0], ["a", "b", "a"])
    assert math.isnan(chi2) and df == 0 and math.isnan(p)
    chi2, df, p = logrank_test([1, 2, 3, 4], [1, 1, 1, 1], ["a"] * 4)  # one group: nothing to compare
    assert df == 0
    with pytest.raises(ValueError):
        logrank_test([1, 2], [1, 2], ["a", "b"])


# --- AUC and Brier ---------------------------------------------------------------------------------

# Hanley JA, McNeil BJ (1982). The meaning and use of the area under a ROC curve. Radiology 143:29-36,
# Table 1: CT ratings 1 (definitely normal) .. 5 (definitely abnormal); area 0.893, SE 0.032.
HM_RATINGS = [1, 2, 3, 4, 5]
HM_NORMAL_COUNTS = [33, 6, 6, 11, 2]  # 58 negatives
HM_ABNORMAL_COUNTS = [3, 2, 2, 11, 33]  # 51 positives
HM_AUC, HM_SE = 0.893, 0.032


def test_auc_hanley_mcneil_rating_example():
    scores = HM_RATINGS * 2
    labels = [0] * 5 + [1] * 5
    auc, se, low, high = auc_with_ci(scores, labels, weights=HM_NORMAL_COUNTS + HM_ABNORMAL_COUNTS)
    assert round(auc, 3) == HM_AUC
    assert round(se, 3) == HM_SE
    assert hanley_mcneil_se(auc, 51, 58) == pytest.approx(se)
    assert (low, high) == pytest.approx((auc - 1.959963984540054 * se, auc + 1.959963984540054 * se))
    # Same answer from one row per case.
    expanded_scores = np.repeat(scores, HM_NORMAL_COUNTS + HM_ABNORMAL_COUNTS)
    expanded_labels = np.repeat(labels, HM_NORMAL_COUNTS + HM_ABNORMAL_COUNTS)
    assert auc_with_ci(expanded_scores, expanded_labels) == pytest.approx((auc, se, low, high), rel=1e-12)


def test_auc_equals_mann_whitney_u():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.normal(labels * 0.8, 1.0), 1)  # rounding makes ties
    u = scipy_stats.mannwhitneyu(scores[labels == 1], scores[labels == 0]).statistic
    assert auc_with_ci(scores, labels == 1)[0] == pytest.approx(u / (labels.sum() * (labels == 0).sum()))


def test_auc_edges():
    assert auc_with_ci([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])[:2] == (1.0, 0.0)
    assert auc_with_ci([0.5, 0.5], [0, 1])[0] == 0.5
    assert all(math.isnan(v) for v in auc_with_ci([0.1, 0.2], [1, 1]))
    assert math.isnan(hanley_mcneil_se(0.7, 0, 10))
    # A = 0.5: Q1 = Q2 = 1/3, so SE^2 = (1/4 + 2 (n - 1) / 12) / n^2 with n per group.
    expected = [math.sqrt((0.25 + 18 / 12) / 100), math.sqrt((0.25 + 78 / 12) / 1600)]
    np.testing.assert_allclose(hanley_mcneil_se(np.array([0.5, 0.5]), [10, 40], [10, 40]), expected, rtol=1e-12)
    with pytest.raises(ValueError):
        auc_with_ci([0.1, 0.2], [0, 2])


def test_brier_score():
    assert brier_score([0.1, 0.9, 0.8], [0, 1, 0]) == pytest.approx((0.01 + 0.01 + 0.64) / 3)
    assert brier_score([0.1, 0.8], [0, 0], weights=[2, 1]) == pytest.approx((2 * 0.01 + 0.64) / 3)
    assert brier_score([1.0, 0.0], [1, 0]) == 0.0
    assert math.isnan(brier_score([], []))
    with pytest.raises(ValueError):
        brier_score([1.2], [1])


# --- funnel limits ---------------------------------------------------------------------------------


def test_funnel_normal_by_hand():
    table = funnel_limits(0.2, [100], levels=(0.95,), method="normal")
    half_width = 1.959963984540054 * math.sqrt(0.2 * 0.8 / 100)
    assert table["lower"][0] == pytest.approx(0.2 - half_width, abs=1e-12)
    assert (round(table["lower"][0], 4), round(table["upper"][0], 4)) == (0.1216, 0.2784)


def test_funnel_exact_by_hand():
    # Binomial(4, 0.5) CDF: 1/16, 5/16, 11/16, 15/16, 1. For an 80% funnel (tails 0.1 and 0.9):
    # lower r = 1, a = (5/16 - 0.1) / (4/16) = 0.85 -> (1 - 0.85) / 4 = 0.0375;
    # upper r = 3, a = (15/16 - 0.9) / (4/16) = 0.15 -> (3 - 0.15) / 4 = 0.7125.
    table = funnel_limits(0.5, [4], levels=(0.8,))
    assert table["lower"][0] == pytest.approx(0.0375, abs=1e-12)
    assert table["upper"][0] == pytest.approx(0.7125, abs=1e-12)


def test_funnel_exact_against_binomial_quantiles():
    table = funnel_limits(0.2, [100], levels=(0.95,))
    r = scipy_stats.binom.ppf(0.975, 100, 0.2)  # 28
    step = scipy_stats.binom.pmf(r, 100, 0.2)
    a = (scipy_stats.binom.cdf(r, 100, 0.2) - 0.975) / step
    assert r == 28 and table["upper"][0] == pytest.approx((r - a) / 100, abs=1e-12)
    assert 0.27 < table["upper"][0] <= 0.28 and 0.11 < table["lower"][0] <= 0.12


def test_funnel_shape_and_edges():
    table = funnel_limits(0.3, pl.Series([0, 10, 50, 500]))
    assert table.columns == ["n", "level", "lower", "upper"]
    assert table.height == 8 and table["level"].unique().sort().to_list() == [0.95, 0.998]
    wide, narrow = table.filter(pl.col("level") == 0.998), table.filter(pl.col("level") == 0.95)
    assert math.isnan(narrow["lower"][0]) and math.isnan(narrow["upper"][0])
    assert np.all(wide["upper"].to_numpy()[1:] >= narrow["upper"].to_numpy()[1:])
    assert np.all(np.diff(narrow["upper"].to_numpy()[1:]) < 0)  # funnel narrows as n grows
    assert funnel_limits(0.0, [10])["upper"].to_list() == [0.0, 0.0]
    assert funnel_limits(0.05, [5], method="normal")["lower"].min() == 0.0  # clipped at 0
    with pytest.raises(ValueError):
        funnel_limits(0.2, [10.5])


# --- overdispersion (Spiegelhalter 2005, section 3.2.1) ----------------------------------------------

# Ten units of n = 100 around p0 = 0.5 (standard error 0.05), with re-referrals 50 + 5z so that their
# z-scores are exactly -3, -2, -1, -1, 0, 0, 1, 1, 2, 3 (they sum to 0, so the pooled rate is 0.5 too).
# By hand: Winsorising at the 10th and 90th percentiles (linear interpolation: positions 0.9 and 8.1 of
# the sorted z) gives -2.1 and 2.1, so phi = (2 * 2.1^2 + 2 * 2^2 + 4 * 1^2) / 10 = 20.82 / 10 = 2.082.
# The heterogeneity test: sum z^2 = 30 on 9 degrees of freedom, p = 0.000439 (chi-square table: the
# 0.1% point of chi-square(9) is 27.88, the 0.05% point 29.67, so p < 0.0005).
# Adjusted limits at n = 100: 0.5 +/- z * 0.05 * sqrt(2.082) = 0.5 +/- z * 0.0721457:
# 95% (z = 1.959964): 0.358597 and 0.641403; 99.8% (z = 3.090232): 0.277053 and 0.722947.
HAND_Z = [-3, -2, -1, -1, 0, 0, 1, 1, 2, 3]


def test_overdispersion_by_hand():
    result = overdispersion([50 + 5 * z for z in HAND_Z], [100] * 10, 0.5)
    assert result["phi"] == pytest.approx(2.082, abs=1e-12)
    assert result["chi_square"] == pytest.approx(30.0, abs=1e-9) and result["df"] == 9
    assert result["p_value"] == pytest.approx(0.000439, abs=5e-7)
    assert result["adjusted"] is True
    limits = adjusted_funnel_limits(0.5, [100], result["phi"])
    assert limits["lower"].to_list() == pytest.approx([0.358597, 0.277053], abs=1e-6)
    assert limits["upper"].to_list() == pytest.approx([0.641403, 0.722947], abs=1e-6)


def test_overdispersion_absent_and_edges():
    # Every unit exactly at p0: z = 0, phi = 0, p = 1, nothing to adjust.
    steady = overdispersion([20, 40, 10], [100, 200, 50], 0.2)
    assert steady["phi"] == 0 and steady["p_value"] == pytest.approx(1.0) and steady["adjusted"] is False
    # One extreme unit among steady ones: the test sees it (z = 8), but Winsorising pulls it in,
    # so phi stays below 1 and the limits are not widened to hide it.
    z = [0, 0, 0, 0, 0, 0, 0, 0, 0, 8]
    one_outlier = overdispersion([50 + 5 * v for v in z], [100] * 10, 0.5)
    assert one_outlier["p_value"] < 0.001 and one_outlier["phi"] == pytest.approx(0.1 * 0.8**2 * 1)
    assert one_outlier["adjusted"] is False
    assert math.isnan(overdispersion([3], [10], 0.3)["phi"])  # one unit: nothing to compare
    assert overdispersion([0, 3], [0, 10], 0.3)["units"] == 1  # a unit with no referrals is left out
    assert adjusted_funnel_limits(0.2, [100], 1.0)["lower"][0] == pytest.approx(
        funnel_limits(0.2, [100], levels=(0.95,), method="normal")["lower"][0]
    )
    with pytest.raises(ValueError):
        adjusted_funnel_limits(0.2, [100], 0.0)


# --- MASE ------------------------------------------------------------------------------------------


def test_mase_by_hand():
    # In-sample 1..6 with season 2: seasonal-naive errors |3-1|, |4-2|, |5-3|, |6-4| = 2 each, scale 2.
    # Forecast errors |7-6| = 1 and |8-10| = 2: MAE 1.5, so MASE = 0.75.
    assert mase([7, 8], [6, 10], [1, 2, 3, 4, 5, 6], season=2) == pytest.approx(0.75)
    # Season 1 (naive): in-sample errors 1, 3, 2 -> scale 2; forecast errors 1, 1 -> MASE 0.5.
    assert mase(pl.Series([5.0, 6.0]), [4.0, 7.0], [1, 2, 5, 3], season=1) == pytest.approx(0.5)


def test_mase_edges():
    assert mase([3], [4], [2, 2, 2], season=1) == math.inf
    assert math.isnan(mase([2], [2], [2, 2, 2], season=1))
    with pytest.raises(ValueError):
        mase([1], [1], list(range(12)), season=12)
    with pytest.raises(ValueError):
        mase([1, 2], [1], list(range(30)))


def test_fisher_vectorised_agrees_with_scipy_on_pattern_page_sized_tables():
    # cohort with / without a factor against everyone else with / without it, as factor_prevalence asks
    tables = [(120, 880, 3000, 96000), (1, 2000, 40, 300000), (64, 36, 1500, 8500), (0, 50, 7, 20000), (9, 1, 0, 3)]
    p = fisher_exact_p_values(*map(list, zip(*tables, strict=True)))
    expected = [fisher_exact_p(*row) for row in tables]
    np.testing.assert_allclose(p, expected, rtol=1e-9, atol=1e-12)


def test_fisher_vectorised_counts_tied_tables_as_scipy_does():
    # Symmetric margins make mirror-image tables equally likely in exact arithmetic; the two-sided p
    # must count both however the rounding falls. [[a, n-a], [n-a, a]] and [[a, b], [a, b]] for n < 25.
    tables = [(a, n - a, n - a, a) for n in range(1, 25) for a in range(n + 1)]
    tables += [(a, b, a, b) for a in range(12) for b in range(12)]
    p = fisher_exact_p_values(*map(list, zip(*tables, strict=True)))
    expected = [fisher_exact_p(*row) for row in tables]
    np.testing.assert_allclose(p, expected, rtol=1e-9, atol=1e-15)
    # [[a, b], [a, b]]: both rows alike, nothing more extreme is less likely than the whole: p = 1
    assert all(
        v == pytest.approx(1.0) for v, row in zip(p, tables, strict=True) if row[0] == row[2] and row[1] == row[3]
    )

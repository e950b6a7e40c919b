"""NEET risk: the model code against published results, RONI by hand, the feature SQL on tiny extracts, the sample."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from helpers import rows_frame
from queries.engine import BadParameter, Engine
from queries.models.neet import (
    OPTIONAL,
    NeetAnalysis,
    analysis,
    clear_risk_factors,
    decision_curve_table,
    fairness,
    known_cells,
    model,
    neet_only_rows,
    per_person,
    young_people,
)
from queries.models.neet_model import (
    FEATURE_NAMES,
    LogitFit,
    calibration_slope,
    calibration_table,
    covariate_patterns,
    delong_difference,
    estimable,
    fit_logit,
    fit_neet_model,
    fit_ridge,
    fit_risk_model,
    fold_counts,
    net_benefit,
    odds_ratio_table,
    rates_at_threshold,
    rates_from_counts,
    recalibration_intercept,
    roni_from_features,
    score_summary,
    with_roni,
)
from schemas.extract import SAMPLE_DATA, open_extract
from tiny_extract import tiny_tables, write_extract

# ---- the model code against published results ---------------------------------------------------------------


def test_spector_mazzeo_logit_through_the_model_code():
    """Spector & Mazzeo (1980) as in statsmodels' Logit example: GPA 2.826113, TUCE 0.095158, PSI 2.378688."""
    data = sm.datasets.spector.load_pandas()
    fit = fit_logit(data.exog.to_numpy(), data.endog.to_numpy(), np.ones(len(data.endog)), ["GPA", "TUCE", "PSI"])
    coefficients = dict(zip(fit.names, fit.params, strict=True))
    assert round(coefficients["GPA"], 6) == 2.826113
    assert round(coefficients["TUCE"], 6) == 0.095158
    assert round(coefficients["PSI"], 6) == 2.378688
    assert round(coefficients["const"], 6) == -13.021347
    reference = sm.Logit(data.endog, sm.add_constant(data.exog)).fit(disp=0)
    assert fit.bse == pytest.approx(reference.bse.to_numpy(), rel=1e-6)
    assert fit.pvalues == pytest.approx(reference.pvalues.to_numpy(), rel=1e-5)


def test_fit_logit_agrees_with_statsmodels_glm(sample_engine):
    """fit_logit's IRLS (normal equations) against statsmodels' GLM on the sample's covariate patterns, on all years
    and on the training years alone."""
    cells = known_cells(sample_engine.con.cursor(), sample_engine.as_of)
    for part in (cells, cells.filter(pl.col("outcome_year") < cells["outcome_year"].max())):
        used = estimable(part, FEATURE_NAMES)
        patterns = covariate_patterns(part, used)
        x = patterns.select(used).cast(pl.Float64).to_numpy()
        successes, trials = patterns["neet"].to_numpy(), patterns["n"].to_numpy()
        fit = fit_logit(x, successes, trials, used)
        glm = sm.GLM(
            np.column_stack([successes, trials - successes]), sm.add_constant(x), family=sm.families.Binomial()
        ).fit(tol=1e-12, maxiter=200)
        interval = np.asarray(glm.conf_int(0.05))
        assert fit.params == pytest.approx(glm.params, rel=1e-9, abs=1e-12)
        assert fit.bse == pytest.approx(glm.bse, rel=1e-9)
        assert fit.pvalues == pytest.approx(glm.pvalues, rel=1e-8, abs=1e-300)
        assert fit.conf_low == pytest.approx(interval[:, 0], rel=1e-9, abs=1e-12)
        assert fit.conf_high == pytest.approx(interval[:, 1], rel=1e-9, abs=1e-12)


def test_ridge_fit_against_statsmodels_fit_regularized():
    """Spector & Mazzeo with a ridge penalty: statsmodels GLM(...).fit_regularized(alpha=[0, .05, .05, .05], L1_wt=0)
    gives const -7.16955732, GPA 0.93800206, TUCE 0.13940629, PSI 0.92803454 (to its stopping rule, about 1e-6;
    its alpha is per observation: 32 x
    0.05 = 1.6 on the summed log-likelihood). Penalty 0 is the maximum-likelihood fit."""
    data = sm.datasets.spector.load_pandas()
    x, y = data.exog.to_numpy(), data.endog.to_numpy()
    fit = fit_ridge(x, y, np.ones(len(y)), ["GPA", "TUCE", "PSI"], penalty=32 * 0.05)
    assert fit.params == pytest.approx([-7.16955732, 0.93800206, 0.13940629, 0.92803454], abs=1e-5)
    unpenalised = fit_ridge(x, y, np.ones(len(y)), ["GPA", "TUCE", "PSI"], penalty=0.0)
    assert unpenalised.params == pytest.approx([-13.021347, 2.826113, 0.095158, 2.378688], abs=1e-5)


def test_calibration_slope_and_intercept_against_statsmodels():
    """14 hand-made predictions and outcomes; statsmodels: slope 1.10959346 (logit y ~ 1 + logit p), intercept
    0.26079502 with logit p as an offset (calibration-in-the-large)."""
    p = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.15, 0.35, 0.55, 0.75])
    y = np.array([0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1], dtype=bool)
    slope, intercept = calibration_slope(p, y)
    assert (round(slope, 6), round(intercept, 6)) == (1.109593, 0.260795)
    # Weights are counts: each case twice is the same fit.
    assert calibration_slope(p, y, np.full(14, 2.0)) == pytest.approx((slope, intercept), rel=1e-8)
    assert recalibration_intercept(p, y, np.ones(14), 1.0) == pytest.approx(intercept, rel=1e-8)


def test_folds_deal_each_cell_in_turn():
    folds = fold_counts([3, 7, 0, 12])
    assert folds.tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 2, 2], [0, 0, 0, 0, 0], [3, 3, 2, 2, 2]]


def test_recalibration_on_an_earlier_cohort_corrects_drift():
    """Two cohorts with the same drivers but a NEET rate that doubles in the later one: recalibrated on the later
    cohort, the model's average risk is the later cohort's rate, not the average of both."""
    rng = np.random.default_rng(5)
    rows = []
    for year, base in ((2024, -2.0), (2025, -1.0)):
        x = rng.random((3000, 2)) < 0.3
        p = 1 / (1 + np.exp(-(base + 1.0 * x[:, 0])))
        rows.append(pl.DataFrame({"attendance_below_85": x[:, 0], "fsm": x[:, 1], "outcome_year": [year] * 3000,
                                  "neet": rng.random(3000) < p}))  # fmt: skip
    people = pl.concat(rows).with_columns([pl.lit(False).alias(f) for f in FEATURE_NAMES
                                           if f not in ("attendance_below_85", "fsm")])  # fmt: skip
    risk = fit_risk_model(people)
    later = people.filter(outcome_year=2025)
    assert "2025" in risk.recalibrated_on and risk.recalibration[0] > 0.5  # the rate went up
    assert risk.predict(later).mean() == pytest.approx(later["neet"].mean(), abs=0.01)
    assert risk.fit.names == ["const", "attendance_below_85", "fsm"]


def test_odds_ratios_are_findings_only_after_benjamini_hochberg():
    """p-values 0.001, 0.03, 0.5, 0.6 across four factors: BH q-values 0.004, 0.06, 0.6, 0.6 (statsmodels
    multipletests fdr_bh). The factor with p = 0.03 is not a finding, in the table's words or the list's drivers."""
    names = ["attendance_below_85", "fsm", "eal", "young_carer"]
    p_values = np.array([0.5, 0.001, 0.03, 0.5, 0.6])  # 'const' first
    params = np.array([-1.0, 1.2, -0.4, 0.1, -0.1])
    fit = LogitFit(names=["const", *names], params=params, bse=np.ones(5), pvalues=p_values, conf_low=params - 1,
                   conf_high=params + 1, n=100.0, positives=30.0, patterns=4, dropped=[])  # fmt: skip
    cells = pl.DataFrame({name: [True, False] for name in FEATURE_NAMES} | {"n": [50, 50], "neet": [20, 10]})
    table = {r["factor"]: r for r in odds_ratio_table(fit, cells).iter_rows(named=True)}
    assert [round(table[n]["q_value"], 6) for n in names] == [0.004, 0.06, 0.6, 0.6]
    assert table["fsm"]["p_value"] == 0.03 and "not clearly" in table["fsm"]["words"]
    assert "had about 3.3× the odds" in table["attendance_below_85"]["words"]
    assert table["ehcp"]["q_value"] is None  # not in the model
    assert clear_risk_factors(fit) == ["attendance_below_85"]


def test_net_benefit_by_hand():
    """Vickers & Elkin (2006): 100 young people, 20 true and 30 false positives at pt = 0.2: 0.20 - 0.30 x 0.25 =
    0.125. Everyone flagged, 25 of 100 positive, at pt = 0.2: 0.25 - 0.75 x 0.25 = 0.0625. Nobody: 0."""
    labels = np.r_[np.ones(25), np.zeros(75)].astype(bool)
    flags = np.r_[np.ones(20), np.zeros(5), np.ones(30), np.zeros(45)].astype(bool)
    assert net_benefit(flags, labels, 0.2) == pytest.approx(0.125)
    assert net_benefit(np.ones(100, bool), labels, 0.2) == pytest.approx(0.0625)
    assert net_benefit(np.zeros(100, bool), labels, 0.2) == 0


def test_hanley_mcneil_example_through_the_performance_code():
    """Hanley & McNeil (1982), Table 1: 58 normal and 51 abnormal CT ratings; AUC 0.893, SE 0.032."""
    ratings, normal, abnormal = [1, 2, 3, 4, 5], [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    scores = np.repeat(ratings * 2, normal + abnormal)
    labels = np.repeat([0] * 5 + [1] * 5, normal + abnormal)
    summary = {metric: value for metric, value, _ in score_summary("", scores, scores / 5, labels)}
    assert round(summary["auc"], 3) == 0.893
    assert round(summary["auc_se"], 3) == 0.032
    assert summary["auc_ci_low"] < 0.893 < summary["auc_ci_high"]
    assert summary["brier"] == pytest.approx(np.mean((scores / 5 - labels) ** 2))


def test_grouped_fit_equals_the_individual_fit(sample_engine):
    """Fitting on covariate patterns is exact: the same coefficients and standard errors as one row a person."""
    known = young_people(sample_engine.con.cursor(), sample_engine.as_of).filter(pl.col("cohort") == "known")
    grouped = fit_neet_model(known)
    used = grouped.names[1:]
    assert covariate_patterns(known, used).height < known.height  # it really is grouped
    individual = sm.Logit(
        known["neet"].cast(pl.Float64).to_numpy(),
        sm.add_constant(known.select(used).fill_null(False).cast(pl.Float64).to_numpy()),
    ).fit(disp=0)
    assert grouped.params == pytest.approx(individual.params, abs=1e-7)
    assert grouped.bse == pytest.approx(individual.bse, rel=1e-6)
    assert grouped.n == known.height and grouped.positives == known["neet"].sum()


def test_delong_difference():
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 2, 400).astype(bool)
    a = rng.normal(labels * 1.0, 1.0)
    b = a + rng.normal(0, 1.0, 400)
    diff, se, low, high, p = delong_difference(a, b, labels)
    auc_a = score_summary("", a, np.clip(a, 0, 1), labels)[0][1]
    auc_b = score_summary("", b, np.clip(b, 0, 1), labels)[0][1]
    assert diff == pytest.approx(auc_a - auc_b)
    assert low < diff < high and 0 <= p <= 1
    assert delong_difference(b, a, labels)[0] == pytest.approx(-diff)
    assert delong_difference(a, a, labels)[:2] == (0.0, 0.0)
    # Close to a bootstrap of the paired difference.
    boot = []
    for _ in range(400):
        i = rng.integers(0, 400, 400)
        boot.append(delong_difference(a[i], b[i], labels[i])[0])
    assert se == pytest.approx(np.std(boot), rel=0.2)


def test_rates_and_calibration_by_hand():
    rates = rates_at_threshold([1, 1, 1, 0, 0, 0], [1, 0, 0, 1, 0, 0])
    assert (rates["true_positives"], rates["false_positives"], rates["flagged"]) == (1, 2, 3)
    assert (rates["tpr"], rates["fpr"], rates["ppv"]) == pytest.approx((1 / 2, 2 / 4, 1 / 3))
    assert rates["tpr_low"] < 0.5 < rates["tpr_high"]
    table = calibration_table(np.linspace(0.01, 0.5, 100), np.r_[np.zeros(80), np.ones(20)])
    assert table["n"].sum() == 100 and table["neet"].sum() == 20 and table.height == 10
    assert table["predicted"].is_sorted()


def test_rare_features_are_left_out():
    people = pl.DataFrame({"neet": [True, False] * 30, "common": [True, False, False, True] * 15, "rare": [False] * 60})
    assert estimable(people.with_columns(rare=pl.Series([True] * 3 + [False] * 57)), ["common", "rare"]) == ["common"]
    never_neet = people.with_columns(rare=~pl.col("neet") & (pl.arange(0, 60) < 30))
    assert estimable(never_neet, ["rare"]) == []


# ---- RONI by hand -----------------------------------------------------------------------------------------------

BLANK = {
    "attendance_pct": 97.0, "suspensions": 0, "permanent_exclusion": False, "sen_support": False, "ehcp": False,
    "fsm": False, "eal": False, "alternative_provision": False, "young_carer": False, "young_parent": False,
    "yot": False, "looked_after": False,
}  # fmt: skip


def roni(**changes) -> tuple[int, str]:
    row = with_roni(pl.DataFrame([BLANK | changes])).row(0, named=True)
    return row["roni_score"], row["roni_factors"]


def test_roni_on_hand_made_cases():
    assert roni() == (0, "")
    assert roni(attendance_pct=84.0, ehcp=True, fsm=True) == (
        6,
        "attendance below 85% 2; EHC plan 2; free school meals 2",
    )
    assert roni(attendance_pct=89.9)[0] == 1
    assert roni(attendance_pct=90.0)[0] == 0
    assert roni(attendance_pct=85.0)[0] == 1
    assert roni(attendance_pct=None)[0] == 0  # not recorded scores nothing
    assert roni(eal=True, sen_support=True)[0] == 2
    assert roni(suspensions=3)[0] == 1
    assert roni(suspensions=3, permanent_exclusion=True) == (2, "permanent exclusion 2")  # proxy: not 3
    assert roni(alternative_provision=True, looked_after=True)[0] == 3
    assert roni(young_parent=True, young_carer=True, yot=True)[0] == 6
    everything = roni(attendance_pct=50.0, eal=True, ehcp=True, permanent_exclusion=True, suspensions=2,
                      alternative_provision=True, looked_after=True, young_parent=True, fsm=True, young_carer=True,
                      yot=True)  # fmt: skip
    assert everything[0] == 2 + 1 + 2 + 2 + 1 + 2 + 2 + 2 + 2 + 2  # custody (2) is not in the extract
    assert roni(eal=None, fsm=None)[0] == 0


# ---- the feature SQL on hand-made extracts ----------------------------------------------------------------------


def education_row(child: str, year: int, attendance: float, **flags) -> dict:
    base = {"child_id": child, "academic_year": year, "attendance_pct": attendance, "suspensions": 0,
            "permanent_exclusion": False, "sen": "none", "fsm": False, "eal": False, "alternative_provision": False,
            "young_carer": False, "young_parent": False, "yot": False}  # fmt: skip
    return base | flags


def school_story(tables):
    # C5 (born 2008-06-10): 14 on 31 August 2022, 15 in 2023 (Year 11), 16 in 2024 (not used).
    # C4 (born 2009-11-20): 14 on 31 August 2024, 15 in 2025.
    tables["education"] = rows_frame(
        "education",
        [
            education_row("C5", 2022, 95.0),
            education_row("C5", 2023, 80.0, suspensions=2, fsm=True),
            education_row("C5", 2024, 50.0, young_parent=True),
            education_row("C4", 2024, 96.0),
            education_row("C4", 2025, 88.0, sen="ehcp", fsm=True),
            education_row("C2", 2025, 78.2, suspensions=2, sen="sen_support", young_carer=True),
        ],
    )
    # C5: unknown first (not an outcome), then EET, then NEET: the outcome is the first known status, EET.
    tables["neet_status"] = rows_frame(
        "neet_status",
        [
            {"child_id": "C5", "recorded_date": "2025-01-31", "status": "unknown"},
            {"child_id": "C5", "recorded_date": "2026-01-31", "status": "EET"},
            {"child_id": "C5", "recorded_date": "2026-02-28", "status": "NEET"},
        ],
    )
    return tables


def features(engine, **params) -> dict:
    return {r["child_id"]: r for r in engine.run("neet_features", **params).iter_rows(named=True)}


def test_feature_table_on_a_hand_made_extract(make_engine):
    """C5 (born 2008-06-10): Year 10 is 2022/23, so features are frozen on 2023-08-31 and come from the 2022 row;
    Year 12 begins 2024-09-01 and Year 13's count closes 2026-02-28. C4 (born 2009-11-20) is in Year 11 on
    2026-03-31: frozen on 2025-08-31, scored from the 2024 row. C2 (born 2012-03-15) is in Year 9: in neither."""
    engine = make_engine(school_story)
    rows = features(engine)
    assert set(rows) == {"C5", "C4"}
    c5 = rows["C5"]
    assert (c5["cohort"], c5["features_as_of"], c5["outcome_from"], c5["outcome_to"], c5["outcome_year"]) == (
        "known", dt.date(2023, 8, 31), dt.date(2024, 9, 1), dt.date(2026, 2, 28), 2026
    )  # fmt: skip
    # 'unknown' (2025-01-31), EET, then NEET (2026-02-28, the last day of the window): NEET or not known, and NEET.
    assert (c5["neet"], c5["neet_only"]) == (True, True)
    # The Year 10 row (2022), not Year 11's (2023: 80%, two suspensions, FSM) nor the 2024 row.
    assert (c5["academic_year"], c5["attendance_pct"], c5["attendance_below_85"], c5["suspended_2_plus"]) == (
        2022, 95.0, False, False
    )  # fmt: skip
    assert not c5["fsm"] and not c5["young_parent"]
    assert not c5["looked_after"]  # E1 started 2025-12-01, after the freeze
    assert c5["referrals"] == 0  # R5 is 2025-11-20
    c4 = rows["C4"]
    assert (c4["cohort"], c4["neet"], c4["academic_year"], c4["age"], c4["features_as_of"]) == (
        "pending", None, 2024, 16, dt.date(2025, 8, 31)
    )  # fmt: skip
    assert not c4["ehcp"] and not c4["fsm"]  # the 2025 row (Year 11) is after the freeze
    assert c4["looked_after"]  # E2 began 2025-03-01
    assert c4["referrals"] == 0 and c4["team_id"] == "T1"  # R4 (2025-09-01): after the freeze, but holds C4 now
    # Frozen at the end of Year 9 instead: C5 has no school row by 2022-08-31, so is left out; C2's Year 9 has
    # not ended. C4's Year 9 (2023/24) has no row either, so the 2024 row is too late.
    assert features(engine, features_year=9) == {}
    # Before C5's window closes (2026-02-27), C5's outcome is not complete: in neither cohort.
    assert "C5" not in features(engine, as_of="2026-02-27")
    with pytest.raises(Exception, match="features_year"):
        engine.run("neet_features", features_year=11)
    with pytest.raises(BadParameter, match="features_year"):
        engine.run("neet_risk_factors", features_year=11)


def outcome_statuses(*statuses):
    """school_story with C5's statuses replaced: (date, status) pairs."""

    def edit(tables):
        tables = school_story(tables)
        tables["neet_status"] = rows_frame(
            "neet_status", [{"child_id": "C5", "recorded_date": d, "status": s} for d, s in statuses]
        )
        return tables

    return edit


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([("2025-01-31", "EET"), ("2026-01-31", "EET")], (False, False)),
        ([("2025-01-31", "unknown"), ("2026-01-31", "EET")], (True, False)),  # not known counts (DfE headline)
        ([("2025-01-31", "EET"), ("2026-01-31", "NEET")], (True, True)),
        # Outside academic age 16-17: before Year 12 and after Year 13's count.
        ([("2024-08-31", "NEET"), ("2025-01-31", "EET"), ("2026-03-01", "NEET")], (False, False)),
        ([("2024-08-31", "NEET")], None),  # no status in the window: no outcome
    ],
)
def test_outcome_is_neet_or_not_known_at_academic_age_16_to_17(make_engine, statuses, expected):
    rows = features(make_engine(outcome_statuses(*statuses)))
    if expected is None:
        assert "C5" not in rows
    else:
        assert (rows["C5"]["neet"], rows["C5"]["neet_only"]) == expected


def test_looked_after_counts_only_before_the_freeze(make_engine):
    def story(tables):
        tables = school_story(tables)
        tables["looked_after"] = tables["looked_after"].with_columns(
            start_date=pl.when(pl.col("child_id") == "C5")
            .then(pl.lit(dt.date(2023, 8, 31)))
            .otherwise(pl.col("start_date"))
        )
        return tables

    assert features(make_engine(story))["C5"]["looked_after"]  # on the freeze date itself: counts


def test_risk_list_without_enough_outcomes_still_gives_roni(make_engine):
    engine = make_engine(school_story)
    risk_list = engine.run("neet_risk_list")
    assert risk_list.columns[:4] == ["child_id", "risk", "roni_score", "top_factors"]
    by_child = {r["child_id"]: r for r in risk_list.iter_rows(named=True)}
    # C4: the 2024 row (96%, nothing flagged) and looked after from 2025-03-01 (2).
    assert by_child["C4"]["roni_score"] == 2 and by_child["C4"]["risk"] is None
    assert risk_list["child_id"].to_list() == ["C4"]
    performance = engine.run("neet_model_performance")
    assert dict(zip(performance["metric"], performance["value"], strict=True))["model_fitted"] == 0
    assert engine.run("neet_risk_factors").is_empty()
    assert engine.run("neet_fairness").is_empty() and engine.run("neet_calibration").is_empty()
    assert engine.run("neet_risk_list", team_id="T1")["child_id"].to_list() == ["C4"]  # R4, on as_of
    assert engine.run("neet_risk_list", team_id="T3").is_empty()


@pytest.mark.parametrize("storage", ["memory", "database", "views"])
@pytest.mark.parametrize("drop", [(), ("looked_after",), ("factors",), ("cin_plans", "cp_plans", "looked_after")])
def test_feature_sql_without_optional_tables(tmp_path, storage, drop):
    """Without an optional table the NEET summary that reads it is a view over an empty stand-in: the same young
    people, without that part of their history, on every storage."""
    folder = write_extract(tmp_path / "x", school_story(tiny_tables()), drop=drop)
    engine = Engine(open_extract(folder), storage=storage, cache_dir=tmp_path / "cache", progress=lambda _: None)
    try:
        rows = features(engine)
        assert set(rows) == {"C5", "C4"}
        assert rows["C4"]["looked_after"] == ("looked_after" not in drop)
        assert rows["C5"]["neet"] and rows["C4"]["team_id"] == "T1"
    finally:
        engine.close()


# ---- nothing after the freeze date enters the model or the list ------------------------------------------------


def after_freeze_changed(source: Path, target: Path) -> None:
    """A copy of the extract at source in which every education row of a school year after each child's Year 10
    is different, every social care event after the end of their Year 10 is gone, and every child gets a new
    referral, CP plan factors the day after it."""
    shutil.copytree(source, target)

    def read(name):
        return pl.read_parquet(target / f"{name}.parquet")

    def write(frame, name):
        frame.write_parquet(target / f"{name}.parquet")

    year_12 = pl.col("birth_date").dt.year() + 16 + (pl.col("birth_date").dt.strftime("%m%d") > "0831").cast(pl.Int32)
    children = (
        read("children")
        .drop_nulls("birth_date")
        .select("child_id", year_10=year_12 - 2, freeze=pl.date(year_12 - 1, 8, 31))
    )
    education = read("education").join(children, on="child_id", how="left")
    later = pl.col("academic_year") > pl.col("year_10")
    flags = ["permanent_exclusion", "fsm", "eal", "alternative_provision", "young_carer", "young_parent", "yot"]
    write(
        education.with_columns(
            pl.when(later).then(pl.lit(41.0)).otherwise("attendance_pct").alias("attendance_pct"),
            pl.when(later).then(pl.lit(6)).otherwise("suspensions").cast(education["suspensions"].dtype),
            pl.when(later).then(pl.lit("ehcp")).otherwise("sen").alias("sen"),
            *[pl.when(later).then(~pl.col(f).fill_null(False)).otherwise(f).alias(f) for f in flags],
        ).drop("year_10", "freeze"),
        "education",
    )
    for name, date in (("cp_plans", "start_date"), ("cin_plans", "start_date"), ("looked_after", "start_date")):
        frame = read(name).join(children, on="child_id", how="left")
        write(frame.filter(pl.col(date) <= pl.col("freeze")).drop("year_10", "freeze"), name)
    referrals = read("referrals")
    late = children.filter(pl.col("freeze") < dt.date(2026, 3, 1))
    new = late.select(
        referral_id=pl.lit("Z") + pl.col("child_id"), child_id="child_id",
        referral_date=pl.col("freeze") + dt.timedelta(days=1), source=pl.lit("1A"), primary_need=pl.lit("N1"),
        nfa=pl.lit(True), team_id=pl.lit(referrals["team_id"][0]), worker_id=pl.lit(None, pl.String),
        closure_date=pl.col("freeze") + dt.timedelta(days=1), closure_reason=pl.lit("RC8"),
    )  # fmt: skip
    write(pl.concat([referrals, new.cast(referrals.schema)]), "referrals")
    factors = read("factors")
    added = new.join(pl.DataFrame({"factor_code": ["3B", "4B", "1B"]}), how="cross").select(
        "child_id", "referral_id", "factor_code", recorded_date="referral_date", source=pl.lit("assessment")
    )
    write(pl.concat([factors, added.cast(factors.schema)]), "factors")


def test_nothing_after_the_freeze_date_changes_the_model_or_the_list(sample_engine, tmp_path):
    after_freeze_changed(SAMPLE_DATA, tmp_path / "changed")
    changed = Engine(open_extract(tmp_path / "changed"), storage="memory", progress=lambda _: None)
    try:
        for table in [*OPTIONAL, "education", "referrals"]:  # the copy is as usable as the sample
            assert changed.tables[table].status == sample_engine.tables[table].status, table
        answers = {}
        for engine in (sample_engine, changed):
            cursor = engine.con.cursor()
            full = model(cursor, engine.as_of).full
            trained = analysis(cursor, engine.as_of).train_fit
            risk_list = engine.run("neet_risk_list").drop("team_id", "worker_id", "open_case")
            answers[engine] = (full, trained, risk_list, engine.run("neet_model_performance"))
        (full, trained, risk_list, performance), (full2, trained2, risk_list2, performance2) = answers.values()
        assert full.names == full2.names and np.array_equal(full.params, full2.params)
        assert np.array_equal(trained.params, trained2.params)
        assert risk_list.height > 100 and risk_list.equals(risk_list2)
        assert performance.equals(performance2)

        # The copy really differs after the freeze: Year 11 rows, new referrals, fewer periods of care.
        def rows(folder, name, where="true"):
            return duckdb.sql(f"SELECT count(*) FROM '{folder / name}.parquet' WHERE {where}").fetchall()[0][0]

        assert rows(tmp_path / "changed", "referrals") > rows(SAMPLE_DATA, "referrals") + 1000
        assert rows(tmp_path / "changed", "looked_after") < rows(SAMPLE_DATA, "looked_after")
        assert rows(tmp_path / "changed", "education", "attendance_pct = 41") > 1000
    finally:
        changed.close()


# ---- the sample: the planted drivers, the holdout, the list ------------------------------------------------------


@pytest.fixture(scope="module")
def sample_results(sample_engine):
    return {
        name: sample_engine.run(name)
        for name in ("neet_risk_factors", "neet_model_performance", "neet_calibration", "neet_fairness")
    }


def test_planted_drivers_come_out_on_top(sample_results):
    """sample_data/README.md: attendance, suspensions, looked after and FSM drive NEET; EAL and young carer are
    pure noise (RONI scores them 1 and 2 points)."""
    factors = sample_results["neet_risk_factors"]
    assert factors.columns[:6] == ["factor", "odds_ratio", "ci_low", "ci_high", "p_value", "n"]
    planted = {"attendance_below_85", "attendance_85_to_90", "suspended_once", "suspended_2_plus", "looked_after",
               "fsm"}  # fmt: skip
    # Frozen at the end of Year 10 (before most of the care the story plants) and with 'not known' in the outcome,
    # the drivers are weaker than at the outcome: FSM no longer stands out on two cohorts.
    clear = factors.filter((pl.col("q_value") < 0.05) & (pl.col("ci_low") > 1))
    assert {"attendance_below_85", "suspended_2_plus", "looked_after"} <= set(clear["factor"]) <= planted
    top = factors.filter(pl.col("q_value") < 0.05).sort("odds_ratio", descending=True)["factor"].head(3)
    assert set(top) == {"attendance_below_85", "suspended_2_plus", "looked_after"}
    by_factor = {r["factor"]: r for r in factors.iter_rows(named=True)}
    for noise in ("eal", "young_carer"):
        row = by_factor[noise]
        assert row["ci_low"] < 1 < row["ci_high"] and row["p_value"] > 0.2, row
        assert "not clearly" in row["words"]
    looked_after = by_factor["looked_after"]
    assert 2 < looked_after["odds_ratio"] < 4.5  # planted log-odds 1.1: odds ratio 3.0
    assert "had about" in looked_after["words"] and "× the odds of becoming NEET" in looked_after["words"]


def test_a_pure_noise_feature_is_not_a_driver(sample_engine):
    people = young_people(sample_engine.con.cursor(), sample_engine.as_of).filter(pl.col("cohort") == "known")
    noise = np.random.default_rng(2026).random(people.height) < 0.3
    fit = fit_neet_model(people.with_columns(coin_toss=pl.Series(noise)), [*FEATURE_NAMES, "coin_toss"])
    i = fit.names.index("coin_toss")
    assert fit.pvalues[i] > 0.05 and fit.conf_low[i] < 0 < fit.conf_high[i]
    order = np.argsort(-np.abs(fit.params[1:] / fit.bse[1:]))
    assert "coin_toss" not in [fit.names[1:][k] for k in order[:6]]


def test_holdout_respects_time_and_compares_with_roni(sample_results):
    performance = sample_results["neet_model_performance"]
    values = dict(zip(performance["metric"], performance["value"], strict=True))
    assert values["model_fitted"] == 1
    assert values["train_to_year"] < values["test_from_year"] and values["test_to_year"] == 2026
    for name in ("auc", "auc_ci_low", "auc_ci_high", "brier", "n", "positives", "roni_auc", "roni_auc_ci_low",
                 "roni_auc_ci_high", "roni_brier", "tpr", "fpr", "ppv", "roni_tpr", "threshold"):  # fmt: skip
        assert values[name] is not None and not np.isnan(values[name]), name
    assert values["auc_ci_low"] < values["auc"] < values["auc_ci_high"]
    assert 0.6 < values["auc"] < 0.8 and values["auc"] > values["roni_auc"]
    assert values["train_n"] + values["n"] == values["known_n"]
    # The penalised, recalibrated model: calibration on the holdout is reported, and is not far off.
    assert 0.5 < values["calibration_slope"] < 1.5 and abs(values["calibration_intercept"]) < 0.5
    assert values["calibration_intercept"] == values["calibration_in_the_large"]
    assert values["penalty"] >= 0 and values["recalibration_slope"] > 0
    # Net benefit at the list's threshold, from the same flags as the rates.
    odds = values["threshold"] / (1 - values["threshold"])
    for prefix in ("", "roni_"):
        tp, fp = (
            values[f"{prefix}tpr"] * values["positives"],
            values[f"{prefix}fpr"] * (values["n"] - values["positives"]),
        )
        assert values[f"{prefix}net_benefit"] == pytest.approx((tp - fp * odds) / values["n"])
    assert values["all_net_benefit"] == pytest.approx(values["base_rate"] - (1 - values["base_rate"]) * odds)
    assert values["outcomes_per_coefficient"] == values["events_per_parameter"]
    # NEET alone is part of the headline (NEET or not known), and the model still ranks it better than chance.
    assert 0 < values["neet_only_rate"] <= values["base_rate"]
    assert 0.5 < values["neet_only_auc_ci_low"] < values["neet_only_auc"] < values["neet_only_auc_ci_high"]
    # The threshold flags about the share RONI 4+ flags (fixed on the training years).
    assert values["flag_share"] == pytest.approx(values["roni_flag_share"], abs=0.05)
    calibration = sample_results["neet_calibration"]
    assert calibration["n"].sum() == values["n"] and calibration["neet"].sum() == values["positives"]
    fairness = sample_results["neet_fairness"]
    everyone = fairness.filter(group_type="all", score="model").row(0, named=True)
    assert everyone["n"] == values["n"] and everyone["tpr"] == pytest.approx(values["tpr"])
    for group_type in ("sex", "ethnicity_group", "disability"):
        part = fairness.filter(group_type=group_type, score="model")
        assert part["n"].sum() == values["n"], group_type
    assert {"Female", "Male"} <= set(fairness.filter(group_type="sex")["group"])
    assert fairness.columns[:12] == ["group_type", "group", "n", "tpr", "tpr_low", "tpr_high", "fpr", "fpr_low",
                                     "fpr_high", "ppv", "ppv_low", "ppv_high"]  # fmt: skip


def test_risk_list_on_the_sample(sample_engine):
    risk_list = sample_engine.run("neet_risk_list")
    assert risk_list.columns[:4] == ["child_id", "risk", "roni_score", "top_factors"]
    assert risk_list["risk"].is_sorted(descending=True) and risk_list["risk"].null_count() == 0
    assert risk_list["age"].is_between(14, 16).all()
    known = sample_engine.run("neet_features").filter(pl.col("cohort") == "known")["child_id"]
    assert not risk_list["child_id"].is_in(known.implode()).any()
    assert risk_list["child_id"].n_unique() == risk_list.height
    # Only clear drivers are named, at most three.
    named = {part.split(" (×")[0] for text in risk_list["top_factors"] for part in text.split("; ") if part}
    assert named <= {"Attendance below 85%", "Two or more suspensions", "Ever looked after", "Free school meals",
                     "Attendance 85–90%", "One suspension"}  # fmt: skip
    assert risk_list["top_factors"].str.count_matches("; ").max() <= 2
    team = risk_list["team_id"][0]
    only_team = sample_engine.run("neet_risk_list", team_id=team)
    assert only_team.height == risk_list.filter(team_id=team).height and (only_team["team_id"] == team).all()


def test_the_fit_is_cached_per_extract(sample_engine):
    cursor = sample_engine.con.cursor()
    first = analysis(cursor, sample_engine.as_of)
    assert analysis(sample_engine.con.cursor(), sample_engine.as_of) is first
    assert analysis(cursor, sample_engine.as_of, test_years=1) is not first
    assert analysis(cursor, dt.date(2025, 3, 31)) is not first
    # The cells and the full model are shared by every test_years and threshold; each answer is kept.
    assert (
        analysis(cursor, sample_engine.as_of, test_years=1).known
        is first.known
        is model(cursor, sample_engine.as_of).known
    )
    assert sample_engine.run("neet_fairness") is sample_engine.run("neet_fairness")
    risk_list = sample_engine.run("neet_risk_list")
    assert sample_engine.run("neet_risk_list").equals(risk_list)


def test_cells_give_the_same_model_as_one_row_a_young_person(sample_engine):
    """The cells counted in DuckDB give the very same covariate patterns, so the same fit, as the young people
    table one row each; the RONI score from the features is the one from the raw columns."""
    cursor = sample_engine.con.cursor()
    people = young_people(cursor, sample_engine.as_of).filter(pl.col("cohort") == "known")
    cells = known_cells(cursor, sample_engine.as_of)
    assert cells.height < people.height and cells["n"].sum() == people.height
    assert cells["neet"].sum() == people["neet"].sum()
    assert covariate_patterns(cells, FEATURE_NAMES).equals(
        covariate_patterns(people, FEATURE_NAMES).cast({"n": pl.Int64, "neet": pl.Int64})
    )
    by_cells, by_people = fit_neet_model(cells), fit_neet_model(people)
    assert by_cells.names == by_people.names
    for part in ("params", "bse", "pvalues", "conf_low", "conf_high"):
        assert np.array_equal(getattr(by_cells, part), getattr(by_people, part)), part
    assert estimable(cells, FEATURE_NAMES) == estimable(people, FEATURE_NAMES)
    # RONI from the features, person by person.
    filled = people.with_columns([pl.col(f).fill_null(False) for f in FEATURE_NAMES])
    assert filled.select(roni_score=roni_from_features())["roni_score"].equals(people["roni_score"])
    assert set(cells["roni_score"]) == set(people["roni_score"])
    # Back to one value a young person: the same multiset of (roni, outcome) pairs.
    roni, neet = per_person(cells, "roni_score")
    pairs = pl.DataFrame({"roni": roni, "neet": neet}).sort(["roni", "neet"])
    assert pairs.equals(people.select(roni="roni_score", neet="neet").sort(["roni", "neet"]))


def test_rates_from_counts_equal_rates_from_flags():
    flags, labels = [1, 1, 1, 0, 0, 0, 1], [1, 0, 0, 1, 0, 0, 1]
    assert rates_from_counts(2, 2, 3, 4) == rates_at_threshold(flags, labels)


def test_parameters(sample_engine):
    def values(**params):
        frame = sample_engine.run("neet_model_performance", **params)
        return dict(zip(frame["metric"], frame["value"], strict=True))

    one_year = values(test_years=1)
    assert (one_year["train_to_year"], one_year["test_from_year"], one_year["test_to_year"]) == (2025, 2026, 2026)
    strict = values(threshold=0.5)
    assert strict["threshold"] == 0.5 and strict["flag_share"] < strict["roni_flag_share"]
    assert sample_engine.run("neet_risk_list", threshold="0.5")["flagged"].sum() < 200
    with pytest.raises(BadParameter, match="threshold"):
        sample_engine.run("neet_fairness", threshold=1.5)
    with pytest.raises(BadParameter, match="test_years"):
        sample_engine.run("neet_calibration", test_years=0)


def hand_made_test_cells() -> pl.DataFrame:
    """Test-year cells: girls at risk 0.2 (10 of 50 NEET) and 0.4 (25 of 50, flagged by the model), boys at 0.2
    (4 of 20); RONI's probability is 0.25 for everyone and flags no one. NEET alone: 6, 15 and 2."""
    return pl.DataFrame(
        {
            "sex": ["F", "F", "M"], "ethnicity_group": ["White"] * 3, "disability": ["No"] * 3,
            "n": [50, 50, 20], "neet": [10, 25, 4], "neet_only": [6, 15, 2],
            "p_model": [0.2, 0.4, 0.2], "p_roni": [0.25] * 3, "roni_score": [1, 3, 1],
            "flag_model": [False, True, False], "flag_roni": [False] * 3,
        }
    )  # fmt: skip


def test_calibration_within_each_fairness_group_by_hand():
    """Mean predicted risk against the share NEET per group. Calibration intercepts solved independently (scipy
    brentq on sum n * expit(a + logit p) = NEET): girls 0.240245, everyone 0.207407; RONI's single risk for girls:
    logit(0.35) - logit(0.25) exactly. Boys have 4 NEET (< 10): no intercept."""
    result = NeetAnalysis(known=hand_made_test_cells(), test=hand_made_test_cells())
    rows = {(r["score"], r["group"]): r for r in fairness(result).iter_rows(named=True)}
    girls, everyone, boys = rows["model", "Female"], rows["model", "All"], rows["model", "Male"]
    assert (girls["predicted"], girls["observed"]) == pytest.approx((0.3, 0.35))
    assert girls["observed_minus_predicted"] == pytest.approx(0.05)
    assert girls["calibration_intercept"] == pytest.approx(0.240245, abs=1e-5)
    assert (everyone["predicted"], everyone["observed"]) == pytest.approx((34 / 120, 39 / 120))
    assert everyone["calibration_intercept"] == pytest.approx(0.207407, abs=1e-5)
    assert (boys["predicted"], boys["observed"], boys["observed_minus_predicted"]) == pytest.approx((0.2, 0.2, 0))
    assert boys["calibration_intercept"] is None
    roni_girls = rows["roni", "Female"]
    assert roni_girls["predicted"] == pytest.approx(0.25) and roni_girls["observed_minus_predicted"] == pytest.approx(
        0.1
    )
    assert roni_girls["calibration_intercept"] == pytest.approx(np.log(0.35 / 0.65) - np.log(0.25 / 0.75), abs=1e-6)
    assert girls["tpr"] == pytest.approx(25 / 35)  # the error rates are still there, beside it


def test_neet_alone_beside_the_headline_by_hand():
    """hand_made_test_cells: 23 of 120 NEET alone. The model's risk is 0.2 for 8 of them and 62 others, 0.4 for 15
    and 35 others: AUC = (15 x 62 + (8 x 62 + 15 x 35) / 2) / (23 x 97) = 1440.5 / 2231 (Mann-Whitney, ties 1/2);
    RONI (1, 3, 1) ranks them the same way."""
    rows = {metric: value for metric, value, _ in neet_only_rows(hand_made_test_cells())}
    assert rows["neet_only_rate"] == pytest.approx(23 / 120)
    assert rows["neet_only_auc"] == pytest.approx(1440.5 / 2231)
    assert rows["roni_neet_only_auc"] == pytest.approx(1440.5 / 2231)
    assert rows["neet_only_auc_ci_low"] < rows["neet_only_auc"] < rows["neet_only_auc_ci_high"]


def test_decision_curve_by_hand():
    """hand_made_test_cells with RONI 4+ for the first girls' cell (10 NEET of 50); 39 of 120 NEET or not known.
    NB = TP/n - FP/n x pt/(1-pt): at 5% the model flags everyone, 39/120 - 81/120/19 = 0.289474, RONI
    10/120 - 40/120/19 = 0.065789; at 25% the model flags the 0.4 cell, 25/120 - 25/120/3 = 0.138889, everyone
    0.325 - 81/360 = 0.1, RONI 10/120 - 40/360 = -0.027778; at 40% (at or above) 25/120 x (1 - 2/3) = 0.069444;
    at 50% the model flags no one (0) and everyone is (39 - 81)/120 = -0.35."""
    cells = hand_made_test_cells().with_columns(roni_score=pl.Series([4, 1, 1]))
    curve = decision_curve_table(cells)
    assert curve["threshold"].unique().sort().to_list() == pytest.approx([0.05 * k for k in range(1, 11)])
    nb = {(r["threshold"], r["tool"]): r["net_benefit"] for r in curve.iter_rows(named=True)}
    assert nb[0.05, "model"] == pytest.approx(0.289474, abs=1e-6) == nb[0.05, "everyone"]
    assert nb[0.05, "roni"] == pytest.approx(0.065789, abs=1e-6)
    assert (nb[0.25, "model"], nb[0.25, "everyone"], nb[0.25, "roni"]) == pytest.approx(
        (0.138889, 0.1, -0.027778), abs=1e-6
    )
    assert nb[0.4, "model"] == pytest.approx(0.069444, abs=1e-6)
    assert (nb[0.5, "model"], nb[0.5, "everyone"]) == pytest.approx((0, -0.35))
    # The same as net_benefit on one row a young person.
    p, flags, y = per_person(cells.with_columns(flag=pl.col("p_model") >= 0.3), "p_model", "flag")
    assert nb[0.3, "model"] == pytest.approx(net_benefit(flags.astype(bool), y, 0.3))


def test_decision_curve_on_the_sample(sample_engine):
    curve = sample_engine.run("neet_decision_curve")
    assert curve.height == 30 and set(curve["tool"]) == {"model", "roni", "everyone"}
    everyone = curve.filter(tool="everyone").sort("threshold")["net_benefit"]
    assert everyone.is_sorted(descending=True)  # talking to everyone costs more as the threshold rises
    performance = sample_engine.run("neet_model_performance")
    base = dict(zip(performance["metric"], performance["value"], strict=True))["base_rate"]
    assert everyone[0] == pytest.approx(base - (1 - base) * 0.05 / 0.95)

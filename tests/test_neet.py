"""NEET risk: the model code against published results, RONI by hand, the feature SQL on tiny extracts, the sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from helpers import rows_frame
from queries.engine import BadParameter, Engine
from queries.models.neet import analysis, known_cells, model, per_person, young_people
from queries.models.neet_model import (
    FEATURE_NAMES,
    calibration_table,
    covariate_patterns,
    delong_difference,
    estimable,
    fit_logit,
    fit_neet_model,
    rates_at_threshold,
    rates_from_counts,
    roni_from_features,
    score_summary,
    with_roni,
)
from schemas.extract import open_extract
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
    engine = make_engine(school_story)
    rows = features(engine)
    assert set(rows) == {"C5", "C4", "C2"}
    c5 = rows["C5"]
    assert (c5["cohort"], c5["neet"], c5["scored_on"], c5["outcome_year"]) == (
        "known",
        False,
        dt.date(2026, 1, 31),
        2026,
    )
    # The latest school year in which C5 was 15 or younger on 31 August: 2023, not 2024.
    assert (c5["academic_year"], c5["attendance_pct"], c5["attendance_below_85"], c5["suspended_2_plus"]) == (
        2023, 80.0, True, True
    )  # fmt: skip
    assert c5["fsm"] and not c5["young_parent"]
    assert c5["looked_after"]  # E1 started 2025-12-01, before the outcome
    assert c5["referrals"] == 1 and not c5["referrals_2"]
    # C4 (16, no status) and C2 (14) are still to come: scored on as_of with their latest school year.
    c4 = rows["C4"]
    assert (c4["cohort"], c4["neet"], c4["academic_year"], c4["age"]) == ("pending", None, 2025, 16)
    assert c4["attendance_85_to_90"] and c4["ehcp"] and c4["looked_after"]  # E2 has ended, but ever counts
    assert rows["C2"]["cp_plan"] and rows["C2"]["team_id"] == "T2" and rows["C2"]["open_case"]
    # Judged on an earlier date: C5 had only an 'unknown' status and was 16, so C5 is in neither cohort.
    earlier = features(engine, as_of="2025-06-30")
    assert "C5" not in earlier


def test_looked_after_counts_only_before_the_outcome(make_engine):
    def story(tables):
        tables = school_story(tables)
        tables["looked_after"] = tables["looked_after"].with_columns(
            start_date=pl.when(pl.col("child_id") == "C5")
            .then(pl.lit(dt.date(2026, 2, 15)))
            .otherwise(pl.col("start_date"))
        )
        return tables

    assert not features(make_engine(story))["C5"]["looked_after"]


def test_risk_list_without_enough_outcomes_still_gives_roni(make_engine):
    engine = make_engine(school_story)
    risk_list = engine.run("neet_risk_list")
    assert risk_list.columns[:4] == ["child_id", "risk", "roni_score", "top_factors"]
    by_child = {r["child_id"]: r for r in risk_list.iter_rows(named=True)}
    # C2: attendance 78.2% (2), SEN support (1), two suspensions (1), young carer (2).
    assert by_child["C2"]["roni_score"] == 6 and by_child["C2"]["risk"] is None
    # C4: attendance 88% (1), EHC plan (2), free school meals (2), looked after in 2025 (2).
    assert by_child["C4"]["roni_score"] == 7
    assert risk_list["child_id"].to_list() == ["C4", "C2"]  # highest RONI first when there is no model
    performance = engine.run("neet_model_performance")
    assert dict(zip(performance["metric"], performance["value"], strict=True))["model_fitted"] == 0
    assert engine.run("neet_risk_factors").is_empty()
    assert engine.run("neet_fairness").is_empty() and engine.run("neet_calibration").is_empty()
    assert engine.run("neet_risk_list", team_id="T1")["child_id"].to_list() == ["C4"]  # C4's latest referral
    assert engine.run("neet_risk_list", team_id="T3").is_empty()


# ---- the feature SQL against the straightforward one it replaced -----------------------------------------------

REFERENCE_SQL = (Path(__file__).parent / "fixtures" / "neet_features_reference.sql").read_text()


def same_as_reference(engine, as_of) -> pl.DataFrame:
    """neet_features on as_of, after checking it equals the reference SQL's table exactly (values, types, order)."""
    as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    reference = engine.con.cursor().sql(REFERENCE_SQL, params={"as_of": as_of}).pl()
    features = engine.run("neet_features", as_of=as_of)
    assert features.equals(reference), f"as_of {as_of}"
    assert features.schema == reference.schema
    return features


@pytest.mark.parametrize("as_of", [None, "2025-09-30", "2025-06-30", "2024-12-31", "2023-08-31"])
def test_feature_sql_equals_the_reference_on_the_sample(sample_engine, as_of):
    """The summaries hold each young person's first outcome and latest school year and referral: on dates before
    the latest (2025-06-30, 2024-12-31 …) the earlier rows are read instead; the table is the same either way."""
    features = same_as_reference(sample_engine, as_of or sample_engine.as_of)
    assert features.height > 1000 and set(features["cohort"]) == {"known", "pending"}


def known_without_school(tables):
    """C4 (16 on 2026-03-31) has a known status before any school year that counts: in neither cohort. C2 (14 from
    2026-03-15) gets a closed referral before R2 and an NFA one without a worker after it, on 2026-03-25."""
    tables = school_story(tables)
    tables["education"] = tables["education"].filter(pl.col("child_id") != "C4")
    tables["education"] = pl.concat([tables["education"], rows_frame("education", [education_row("C4", 2026, 90.0)])])
    tables["neet_status"] = pl.concat(
        [tables["neet_status"], rows_frame("neet_status", [{"child_id": "C4", "recorded_date": "2026-02-28",
                                                            "status": "NEET"}])]
    )  # fmt: skip
    extra = [
        {"referral_id": "R8", "child_id": "C2", "referral_date": "2024-11-05", "source": "1A", "primary_need": "N1",
         "nfa": False, "team_id": "T3", "worker_id": "W5", "closure_date": "2025-01-31", "closure_reason": "RC1"},
        {"referral_id": "R9", "child_id": "C2", "referral_date": "2026-03-25", "source": "1A", "primary_need": "N1",
         "nfa": True, "team_id": "T1", "worker_id": None, "closure_date": "2026-03-25", "closure_reason": "RC8"},
    ]  # fmt: skip
    tables["referrals"] = pl.concat([tables["referrals"], rows_frame("referrals", extra)])
    return tables


@pytest.mark.parametrize("storage", ["memory", "database", "views"])
@pytest.mark.parametrize("drop", [(), ("looked_after",), ("factors",), ("cin_plans", "cp_plans", "looked_after")])
def test_feature_sql_equals_the_reference_without_optional_tables(tmp_path, storage, drop):
    """Without an optional table the NEET summaries that read it are views over an empty stand-in: the same
    young people, without that part of their history, on every storage."""
    folder = write_extract(tmp_path / "x", known_without_school(tiny_tables()), drop=drop)
    engine = Engine(open_extract(folder), storage=storage, cache_dir=tmp_path / "cache", progress=lambda _: None)
    try:
        for as_of in ("2026-03-31", "2026-03-20", "2026-01-31", "2025-06-30", "2025-01-15"):
            same_as_reference(engine, as_of)
        rows = {r["child_id"]: r for r in engine.run("neet_features").iter_rows(named=True)}
        assert set(rows) == {"C5", "C2"}  # C4 is known, but has no school year by then
        assert (rows["C2"]["referrals"], rows["C2"]["team_id"], rows["C2"]["worker_id"]) == (3, "T1", "W3")
        assert rows["C2"]["open_case"] and rows["C5"]["looked_after"] == ("looked_after" not in drop)
        # Before R9: R8 (closed) and R2 (open) so far, the latest R2's.
        then = engine.run("neet_features", as_of="2026-03-20").filter(child_id="C2").row(0, named=True)
        assert (then["referrals"], then["team_id"], then["worker_id"], then["open_case"]) == (2, "T2", "W3", True)
    finally:
        engine.close()


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
    clear = factors.filter((pl.col("p_value") < 0.001) & (pl.col("ci_low") > 1))
    assert {"attendance_below_85", "suspended_2_plus", "looked_after", "fsm"} <= set(clear["factor"]) <= planted
    top = factors.filter(pl.col("p_value") < 0.05).sort("odds_ratio", descending=True)["factor"].head(4)
    assert set(top) == {"attendance_below_85", "suspended_2_plus", "looked_after", "fsm"}
    by_factor = {r["factor"]: r for r in factors.iter_rows(named=True)}
    for noise in ("eal", "young_carer"):
        row = by_factor[noise]
        assert row["ci_low"] < 1 < row["ci_high"] and row["p_value"] > 0.5, row
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
    strict = values(threshold=0.3)
    assert strict["threshold"] == 0.3 and strict["flag_share"] < strict["roni_flag_share"]
    assert sample_engine.run("neet_risk_list", threshold="0.3")["flagged"].sum() < 400
    with pytest.raises(BadParameter, match="threshold"):
        sample_engine.run("neet_fairness", threshold=1.5)
    with pytest.raises(BadParameter, match="test_years"):
        sample_engine.run("neet_calibration", test_years=0)

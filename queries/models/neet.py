"""NEET risk: what predicts a young person becoming NEET at 16-18, how well, for whom, and who to help early.

The young people come from DuckDB (queries/sql/neet_features.sql: one row a young person, features from the
latest school year up to Year 11 and social care history up to the outcome). Those with an outcome are read as
cells, counted in DuckDB: one row per combination of the model's features (all binary), outcome year, sex,
ethnicity group and disability, with how many young people (n) and how many became NEET (neet); every model
below is fitted and judged on those cells, which give the same answers as one row a young person. Only the
young people still to come are read one row each, for the risk list. The statistics are in
queries/models/neet_model.py:

* the outcome is the first known status (EET or NEET; 'unknown' is not an outcome) recorded at 16-18;
* `neet_risk_factors`: a logistic model on every young person with an outcome, fitted on covariate
  patterns (exact: every feature is binary), as odds ratios with 95% intervals and p-values;
* `neet_model_performance`, `neet_calibration`, `neet_fairness`: the same model refitted on the earlier
  outcome years only (by the year of the outcome record) and judged on the latest `test_years` years, with
  the RONI score judged on the same young people. The threshold flags, in the training years, the same
  share of young people as RONI 4+ does (so both tools flag about as many), unless one is given;
* `neet_risk_list`: young people aged 14-16 with no known status yet, scored by the model fitted on
  everyone with an outcome, highest risk first, with their RONI score and the factors behind their risk.

The fitted models and the answers are cached per engine (one extract, which does not change under it), as_of
and parameters: the five questions of the page share one read of the cells and one fit, and asking again
answers from the cache.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from queries.engine import BadParameter, engine_instance
from queries.kept import KeptAnswers
from queries.models.neet_model import (
    BY_NAME,
    CALIBRATION_SCHEMA,
    FEATURE_NAMES,
    MIN_EACH_OUTCOME,
    ODDS_SCHEMA,
    RONI_FLAG,
    LogitFit,
    RiskModel,
    calibration_slope,
    calibration_table,
    clear_factors,
    delong_difference,
    fit_neet_model,
    fit_risk_model,
    net_benefit,
    odds_ratio_table,
    per_outcome,
    rates_at_threshold,
    rates_from_counts,
    recalibration_intercept,
    roni_band,
    roni_from_features,
    score_summary,
    with_roni,
)
from queries.registry import get_query, python_query
from queries.stats import auc_with_ci

TABLES = ["children", "education", "neet_status", "referrals"]
OPTIONAL = ["looked_after", "cp_plans", "cin_plans", "factors"]
AS_OF = "as_of date = as_of ; statuses and records after this date are ignored"
FEATURES_YEAR = "features_year int = 10 ; features frozen at the end of this school year (9 or 10)"
TEST_YEARS = (
    "test_years int = 2 ; the latest years of outcome records held out to test the model (trained on the earlier)"
)
# The NEET questions that give figures (not young people): who may ask them.
NEET_FIGURES = {"access": "aggregate", "roles": ("analyst", "head_of_service", "team_manager")}
HOLDOUT_PARAMS = [
    AS_OF,
    FEATURES_YEAR,
    TEST_YEARS,
    "threshold float = null ; flag young people at or above this probability; default: flag the same share as"
    " RONI 4+ does in the training years",
]
SEX_WORDS = {"F": "Female", "M": "Male", "U": "Unknown"}
GROUPS = ["sex", "ethnicity_group", "disability"]  # the fairness groups
# What the engine hides with a fairness group's counts (queries/disclosure.py): a group of 1-5 young people
# is hidden whole; a rate and its interval go with its own numerator or denominator.
FAIRNESS_RATES = {
    "tpr": ("true_positives", "positives"),
    "fpr": ("false_positives", "negatives"),
    "ppv": ("true_positives", "flagged"),
}
FAIRNESS_DERIVED = (
    {c: ("n",) for c in ("positives", "negatives", "flagged", "true_positives", "false_positives")}
    | {f"{rate}{end}": (*sources, "n") for rate, sources in FAIRNESS_RATES.items() for end in ("", "_low", "_high")}
    | {
        # Calibration within the group: the mean predicted risk rests on the group's size, the rest on its outcomes too.
        "predicted": ("n",),
        "observed": ("positives", "n"),
        "observed_minus_predicted": ("positives", "n"),
        "calibration_intercept": ("positives", "negatives", "n"),
    }
)
# A group's calibration intercept is fitted only with at least this many young people of each outcome.
MIN_GROUP_OUTCOMES = 10
MAX_CACHED = 3  # each holds the cells and the scored risk list: about 50 MB for all of England


def young_people(cursor, as_of, features_year: int = 10) -> pl.DataFrame:
    """The neet_features table, one row per young person, with the RONI score: the row-level form the questions
    no longer read (they read known_cells and pending_people), kept as what tests compare the cells with."""
    params = {"as_of": as_of, "features_year": features_year}
    return with_roni(cursor.sql(get_query("neet_features").sql, params=params).pl())


def features_sql() -> str:
    """neet_features' SQL without its final ORDER BY: for reading rows that are counted or sorted again here (it
    would sort every young person first)."""
    sql, found = re.subn(r"\nORDER BY [^\n]+\s*$", "\n", get_query("neet_features").sql)
    if found != 1:
        raise RuntimeError("neet_features.sql no longer ends with an ORDER BY line")
    return sql


def known_cells_sql() -> str:
    """The young people with an outcome counted by the model's features (missing is false), outcome year and
    fairness group: n young people, of whom neet became NEET. In a fixed order, so sums over them are too."""
    features = ", ".join(f"coalesce({name}, false) AS {name}" for name in FEATURE_NAMES)
    return (
        f"SELECT {features}, outcome_year, {', '.join(GROUPS)}, count(*) AS n, count(*) FILTER (WHERE neet) AS neet,\n"
        f"count(*) FILTER (WHERE neet_only) AS neet_only\n"
        f"FROM ({features_sql()}) AS people\nWHERE cohort = 'known'\nGROUP BY ALL\nORDER BY ALL"
    )


def known_cells(cursor, as_of, features_year: int = 10) -> pl.DataFrame:
    """The cells of young people with an outcome (known_cells_sql), with their RONI score."""
    cells = cursor.sql(known_cells_sql(), params={"as_of": as_of, "features_year": features_year}).pl()
    return cells.with_columns(roni_score=roni_from_features())


def pending_people(cursor, as_of, features_year: int = 10) -> pl.DataFrame:
    """The young people still to come (cohort 'pending'), one row each, with the RONI score."""
    sql = f"SELECT * FROM ({features_sql()}) AS people WHERE cohort = 'pending'"
    return with_roni(cursor.sql(sql, params={"as_of": as_of, "features_year": features_year}).pl())


def per_person(cells: pl.DataFrame, *columns: str) -> tuple[np.ndarray, ...]:
    """The cells' columns as one value per young person, and last their outcomes (True: became NEET)."""
    n, neet = cells["n"].to_numpy(), cells["neet"].to_numpy()
    values = [np.concatenate([np.repeat(cells[c].to_numpy(), neet), np.repeat(cells[c].to_numpy(), n - neet)])
              for c in columns]  # fmt: skip
    return (*values, np.repeat([True, False], [int(neet.sum()), int((n - neet).sum())]))


@dataclass(kw_only=True)
class Answers:
    """Each question's answer from these results, computed on first asking."""

    answers: dict = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)  # an answer may need another

    def answer(self, name: str, compute):
        with self.lock:
            if name not in self.answers:
                self.answers[name] = compute(self)
            return self.answers[name]


@dataclass
class NeetModel(Answers):
    """The young people with an outcome on one extract and as_of (cells), and the model fitted on all of them."""

    known: pl.DataFrame  # cells (known_cells)

    @property
    def note(self) -> str:
        """Why no model can be fitted ('' when one can)."""
        positives = int(self.known["neet"].sum())
        negatives = int(self.known["n"].sum()) - positives
        if positives >= MIN_EACH_OUTCOME and negatives >= MIN_EACH_OUTCOME:
            return ""
        return (
            f"Too few young people with a known outcome to fit a model: {positives} NEET and {negatives} not NEET; "
            f"at least {MIN_EACH_OUTCOME} of each are needed."
        )

    @property
    def full(self) -> LogitFit | None:
        """The model fitted on every young person with an outcome (None when too few), fitted when first asked."""
        return self.answer("full", lambda m: fit_neet_model(m.known))

    @property
    def risk_model(self) -> RiskModel | None:
        """The penalised, recalibrated model the risk list's probabilities come from (None when too few)."""
        return self.answer("risk_model", lambda m: fit_risk_model(m.known))

    @property
    def full_threshold(self) -> float | None:
        """The risk list's default threshold: flags as many young people with an outcome as RONI 4+ does."""
        return self.answer("full_threshold", default_threshold)


@dataclass
class NeetAnalysis(Answers):
    """Everything the NEET questions show, computed once per extract, as_of and parameters."""

    known: pl.DataFrame  # cells of young people with an outcome, with roni_score
    train_fit: LogitFit | None = None  # the ridge fit of the risk model trained on the earlier years
    risk: RiskModel | None = None  # that risk model: what the test years are judged on
    train_years: list[int] = field(default_factory=list)
    test_years: list[int] = field(default_factory=list)
    test: pl.DataFrame | None = None  # cells of the held-out young people with p_model, p_roni, flags
    threshold: float | None = None
    note: str = ""


_MODELS = KeptAnswers(MAX_CACHED)
_CACHE = KeptAnswers(MAX_CACHED)


def model(cursor, as_of, features_year: int = 10) -> NeetModel:
    """The cached cells and full model for this extract, as_of and freeze year."""
    if features_year not in (9, 10):
        raise BadParameter("neet: features_year must be 9 or 10 (features frozen at the end of Year 9 or Year 10)")
    return _MODELS.get_or_build(
        (engine_instance(cursor), as_of, features_year),
        lambda: NeetModel(known=known_cells(cursor, as_of, features_year)),
    )


def analysis(
    cursor, as_of, test_years: int = 2, threshold: float | None = None, features_year: int = 10
) -> NeetAnalysis:
    """The cached analysis for this extract, as_of and parameters."""
    if test_years < 1:
        raise BadParameter("neet: test_years must be at least 1")
    if threshold is not None and not 0 < threshold < 1:
        raise BadParameter("neet: threshold must be a probability between 0 and 1")
    fitted = model(cursor, as_of, features_year)
    key = (engine_instance(cursor), as_of, test_years, threshold, features_year)
    return _CACHE.get_or_build(key, lambda: analyse(fitted, test_years, threshold))


def flag_threshold(probabilities: np.ndarray, roni: np.ndarray) -> float | None:
    """The probability that flags the same share of these young people as RONI 4+ does."""
    share = float(np.mean(roni >= RONI_FLAG)) if roni.size else 0.0
    if share <= 0 or share >= 1:
        return None
    return float(np.quantile(probabilities, 1 - share))


def neet_rate(cells: pl.DataFrame) -> float:
    """The share of the young people in these cells who became NEET."""
    return int(cells["neet"].sum()) / int(cells["n"].sum())


def default_threshold(fitted: NeetModel) -> float | None:
    """The probability that flags as many young people with an outcome as RONI 4+ does (by the full model)."""
    if fitted.risk_model is None:
        return None
    # Without a usable RONI share (nobody or everybody scores 4+), flag risks above the average NEET rate.
    p, roni, _ = per_person(
        fitted.known.with_columns(p=pl.Series(fitted.risk_model.predict(fitted.known))), "p", "roni_score"
    )
    return flag_threshold(p, roni) or neet_rate(fitted.known)


def analyse(fitted: NeetModel, test_years: int = 2, threshold: float | None = None) -> NeetAnalysis:
    """Judge the model on the latest years: see the module docstring."""
    known = fitted.known
    result = NeetAnalysis(known=known, note=fitted.note)
    if result.note:
        return result
    years = sorted(known["outcome_year"].unique().to_list())
    if len(years) < 2:
        result.note = "All known outcomes are from one year, so the model cannot be tested on later years."
        return result
    result.test_years = years[-min(test_years, len(years) - 1) :]
    result.train_years = [y for y in years if y not in result.test_years]
    train = known.filter(pl.col("outcome_year").is_in(result.train_years))
    test = known.filter(pl.col("outcome_year").is_in(result.test_years))
    result.risk = fit_risk_model(train)
    if result.risk is None:
        result.note = "Too few young people with a known outcome in the earlier years to train the model."
        return result
    result.train_fit = result.risk.fit
    p_train, roni_train, _ = per_person(train.with_columns(p=pl.Series(result.risk.predict(train))), "p", "roni_score")
    result.threshold = threshold or flag_threshold(p_train, roni_train) or neet_rate(train)
    # RONI as a probability (for its Brier score): the NEET rate at each RONI score in the training years.
    roni_rates = train.group_by("roni_score").agg(p_roni=pl.col("neet").sum() / pl.col("n").sum())
    result.test = (
        test.with_columns(p_model=pl.Series(result.risk.predict(test)))
        .join(roni_rates, on="roni_score", how="left")
        .with_columns(
            pl.col("p_roni").fill_null(neet_rate(train)),
            flag_model=pl.col("p_model") >= result.threshold,
            flag_roni=pl.col("roni_score") >= RONI_FLAG,
        )
    )
    return result


# ---- the questions -------------------------------------------------------------------------------------------


@python_query(
    "neet_risk_factors",
    **NEET_FIGURES,
    counts=[["n", "neet_with"], ["n_without", "neet_without"]],
    derived={
        **{
            c: ["n", "neet_with"]
            for c in ("odds_ratio", "ci_low", "ci_high", "p_value", "q_value", "pct_neet_with", "coefficient", "words")
        },
        "pct_neet_without": ["n_without", "neet_without"],
    },
    title="NEET risk factors",
    description="Odds ratios with 95% intervals and p-values from a logistic model of becoming NEET (first known "
    "status at 16-18) on school features (attendance bands, suspensions, permanent exclusion, SEN, FSM, EAL, "
    "alternative provision, young carer, young parent, YOT) and social care history (CIN plan, CP plan, looked "
    "after, referrals, parental factors), fitted on every young person with a known outcome; q_value: "
    "Benjamini-Hochberg across the factors (a finding is q < 0.05). n: young people with "
    "the factor. A factor too rare to estimate has no odds ratio.",
    tables=TABLES,
    optional_tables=OPTIONAL,
    params=[AS_OF, FEATURES_YEAR],
)
def neet_risk_factors(cursor, as_of, features_year=10) -> pl.DataFrame:
    return model(cursor, as_of, features_year).answer("neet_risk_factors", risk_factors)


def risk_factors(fitted: NeetModel) -> pl.DataFrame:
    if fitted.full is None:
        return pl.DataFrame(schema=ODDS_SCHEMA)
    return odds_ratio_table(fitted.full, fitted.known)


def performance_rows(result: NeetAnalysis) -> list[tuple[str, float | None, str]]:
    rows: list[tuple[str, float | None, str]] = [
        ("model_fitted", float(result.test is not None), result.note or "the model was trained and tested"),
        ("known_n", float(result.known["n"].sum()), "young people with a known outcome (the whole cohort)"),
        ("known_positives", float(result.known["neet"].sum()), "of whom NEET at their first known status"),
    ]
    if result.test is None:
        return rows
    train = result.known.filter(pl.col("outcome_year").is_in(result.train_years))
    p_model, roni, p_roni, flag_model, flag_roni, y = per_person(
        result.test, "p_model", "roni_score", "p_roni", "flag_model", "flag_roni"
    )
    fit = result.risk.fit
    rows += [
        ("train_from_year", float(min(result.train_years)), "training: outcome records from this year"),
        ("train_to_year", float(max(result.train_years)), "training: to this year"),
        ("test_from_year", float(min(result.test_years)), "test: outcome records from this year"),
        ("test_to_year", float(max(result.test_years)), "test: to this year"),
        ("train_n", float(train["n"].sum()), "young people in the training years"),
        ("train_positives", float(train["neet"].sum()), "of whom NEET"),
        ("events_per_parameter", fit.positives / len(fit.names), "NEET young people per model coefficient in "
         "training (10 or more is the usual rule of thumb)"),
        ("n", float(y.size), "young people in the test years"),
        ("positives", float(y.sum()), "of whom NEET"),
        ("base_rate", float(y.mean()), "share NEET in the test years"),
    ]  # fmt: skip
    rows += score_summary("", p_model, p_model, y)
    slope, large = calibration_slope(*per_outcome(result.test, "p_model"))
    rows += [
        ("calibration_slope", slope, "calibration slope (1 = spread of risks right; below 1 = too extreme)"),
        ("calibration_intercept", large, "calibration intercept (calibration-in-the-large: logit of the outcome on "
         "the predicted logit as an offset; 0 = right on average, above 0 = predicted too low)"),
        ("calibration_in_the_large", large, "the calibration intercept, under its other name"),
        ("penalty", result.risk.penalty, "ridge penalty (lambda on the log-likelihood), chosen by 5-fold "
         "cross-validation in the training years"),
        ("recalibration_intercept", result.risk.recalibration[0], "recalibration: intercept, fitted on "
         + result.risk.recalibrated_on),
        ("recalibration_slope", result.risk.recalibration[1], "recalibration: slope on the ridge model's logit"),
    ]  # fmt: skip
    rows += score_summary("roni_", roni, p_roni, y)
    diff, _se, low, high, p = delong_difference(p_model, roni, y)
    rows += [
        ("auc_difference", diff, "model AUC minus RONI AUC on the same young people"),
        ("auc_difference_ci_low", low, "95% interval for the difference (DeLong): low"),
        ("auc_difference_ci_high", high, "95% interval for the difference (DeLong): high"),
        ("auc_difference_p", p, "p-value for no difference (DeLong's test)"),
        ("threshold", result.threshold, "the model flags young people whose predicted probability is at least this"),
        ("roni_threshold", float(RONI_FLAG), "RONI flags young people scoring at least this (substantial support)"),
    ]
    pt = result.threshold
    rows += [
        ("net_benefit", net_benefit(flag_model, y, pt), "net benefit at the threshold (Vickers & Elkin 2006): "
         "NEET young people found per young person, less those flagged who were not, weighted by the threshold's "
         "odds; above the others = more use than them"),
        ("roni_net_benefit", net_benefit(flag_roni, y, pt), "net benefit of talking to those RONI 4+ flags, at the "
         "same threshold"),
        ("all_net_benefit", net_benefit(np.ones(y.size, bool), y, pt), "net benefit of talking to everyone, at the "
         "same threshold (talking to no one is 0)"),
        ("outcomes_per_coefficient", fit.positives / len(fit.names), "NEET or not known young people in training "
         "per model coefficient (the constant included; 10 or more is the usual rule of thumb)"),
    ]  # fmt: skip
    for prefix, flags in (("", flag_model), ("roni_", flag_roni)):
        rates = rates_at_threshold(flags, y)
        who = "RONI 4+" if prefix else "the model"
        rows += [
            (f"{prefix}flagged", float(rates["flagged"]), f"young people flagged by {who} in the test years"),
            (f"{prefix}flag_share", rates["flagged"] / rates["n"], f"share flagged by {who}"),
            (f"{prefix}tpr", rates["tpr"], f"true positive rate: share of those who became NEET flagged by {who}"),
            (f"{prefix}tpr_low", rates["tpr_low"], "95% interval (Wilson): low"),
            (f"{prefix}tpr_high", rates["tpr_high"], "95% interval (Wilson): high"),
            (f"{prefix}fpr", rates["fpr"], f"false positive rate: share of those who did not flagged by {who}"),
            (f"{prefix}fpr_low", rates["fpr_low"], "95% interval (Wilson): low"),
            (f"{prefix}fpr_high", rates["fpr_high"], "95% interval (Wilson): high"),
            (f"{prefix}ppv", rates["ppv"], f"positive predictive value: share of those flagged by {who} who "
             "became NEET"),
            (f"{prefix}ppv_low", rates["ppv_low"], "95% interval (Wilson): low"),
            (f"{prefix}ppv_high", rates["ppv_high"], "95% interval (Wilson): high"),
            (f"{prefix}accuracy", float(np.mean(flags == y)), f"share of young people {who} classed correctly"),
        ]  # fmt: skip
    return rows + neet_only_rows(result.test)


def neet_only_rows(test: pl.DataFrame) -> list[tuple[str, float, str]]:
    """NEET alone beside the headline on the test years: its rate, and how well the model (trained on the headline,
    NEET or not known) and RONI rank young people for it (AUC with a Hanley-McNeil 95% interval)."""
    n, only = test["n"].to_numpy(), test["neet_only"].to_numpy()
    rows = [("neet_only_rate", float(only.sum() / n.sum()), "share NEET (not counting 'not known') in the test years")]
    labels, weights = np.repeat([True, False], test.height), np.concatenate([only, n - only])
    for prefix, column, who in (("", "p_model", "the model's risk"), ("roni_", "roni_score", "the RONI score")):
        auc, _se, low, high = auc_with_ci(np.tile(test[column].to_numpy(), 2), labels, weights)
        rows += [
            (f"{prefix}neet_only_auc", auc, f"AUC of {who} against NEET alone (not counting 'not known')"),
            (f"{prefix}neet_only_auc_ci_low", low, "95% interval: low"),
            (f"{prefix}neet_only_auc_ci_high", high, "95% interval: high"),
        ]
    return rows


@python_query(
    "neet_model_performance",
    **NEET_FIGURES,
    title="NEET model: how good it is, against RONI",
    description="The NEET model trained on earlier outcome years and tested on the latest test_years years, with "
    "the RONI score on the same young people: AUC with a Hanley-McNeil 95% interval, Brier score, calibration, the "
    "AUC difference (DeLong), and at the threshold the share flagged, true and false positive rates and positive "
    "predictive value with Wilson intervals. RONI's Brier score uses the training years' NEET rate at each score.",
    tables=TABLES,
    optional_tables=OPTIONAL,
    params=HOLDOUT_PARAMS,
)
def neet_model_performance(cursor, as_of, features_year=10, test_years=2, threshold=None) -> pl.DataFrame:
    return analysis(cursor, as_of, test_years, threshold, features_year).answer("neet_model_performance", performance)


def performance(result: NeetAnalysis) -> pl.DataFrame:
    rows = performance_rows(result)
    return pl.DataFrame(rows, schema={"metric": pl.String, "value": pl.Float64, "about": pl.String}, orient="row")


@python_query(
    "neet_calibration",
    **NEET_FIGURES,
    counts=[["n", "neet"]],
    derived={c: ["n", "neet"] for c in ("observed", "observed_low", "observed_high", "predicted")},
    title="NEET model calibration",
    description="On the test years: young people grouped by tenths of their predicted risk (the model trained on "
    "earlier years), the mean predicted probability against the share who became NEET, with Wilson 95% intervals.",
    tables=TABLES,
    optional_tables=OPTIONAL,
    params=HOLDOUT_PARAMS,
)
def neet_calibration(cursor, as_of, features_year=10, test_years=2, threshold=None) -> pl.DataFrame:
    return analysis(cursor, as_of, test_years, threshold, features_year).answer("neet_calibration", calibration)


def calibration(result: NeetAnalysis) -> pl.DataFrame:
    if result.test is None:
        return pl.DataFrame(schema=CALIBRATION_SCHEMA)
    return calibration_table(*per_person(result.test, "p_model"))


DECISION_THRESHOLDS = [round(0.05 * k, 2) for k in range(1, 11)]  # 5% to 50% in 5-point steps
DECISION_SCHEMA = {"threshold": pl.Float64, "tool": pl.String, "net_benefit": pl.Float64}


@python_query(
    "neet_decision_curve",
    **NEET_FIGURES,
    title="NEET model: decision curve",
    description="On the test years: net benefit (Vickers & Elkin 2006: NB = TP/n - FP/n x pt/(1 - pt)) at risk "
    "thresholds pt from 5% to 50% in 5-point steps, for talking to those the model puts at pt or above (tool = "
    "model), to those RONI 4+ flags (tool = roni) and to everyone (tool = everyone); talking to no one is 0. Only "
    "net benefits and thresholds: no counts.",
    tables=TABLES,
    optional_tables=OPTIONAL,
    params=[AS_OF, FEATURES_YEAR, TEST_YEARS],
)
def neet_decision_curve(cursor, as_of, features_year=10, test_years=2) -> pl.DataFrame:
    return analysis(cursor, as_of, test_years, None, features_year).answer("neet_decision_curve", decision_curve)


def decision_curve(result: NeetAnalysis) -> pl.DataFrame:
    if result.test is None:
        return pl.DataFrame(schema=DECISION_SCHEMA)
    return decision_curve_table(result.test)


def decision_curve_table(test: pl.DataFrame, thresholds=DECISION_THRESHOLDS) -> pl.DataFrame:
    """Net benefit at each threshold from test-year cells (n, neet, p_model, roni_score), one row per tool."""
    n, neet = test["n"].to_numpy(), test["neet"].to_numpy()
    total, p_model = n.sum(), test["p_model"].to_numpy()
    roni = test["roni_score"].to_numpy() >= RONI_FLAG
    rows = []
    for pt in thresholds:
        odds = pt / (1 - pt)
        for tool, flag in (("model", p_model >= pt), ("roni", roni), ("everyone", np.ones(n.size, bool))):
            tp, fp = neet[flag].sum(), (n - neet)[flag].sum()
            rows.append((pt, tool, float(tp / total - fp / total * odds)))
    return pl.DataFrame(rows, schema=DECISION_SCHEMA, orient="row")


FAIRNESS_SCHEMA = {
    "group_type": pl.String, "group": pl.String, "n": pl.Int64,
    "tpr": pl.Float64, "tpr_low": pl.Float64, "tpr_high": pl.Float64,
    "fpr": pl.Float64, "fpr_low": pl.Float64, "fpr_high": pl.Float64,
    "ppv": pl.Float64, "ppv_low": pl.Float64, "ppv_high": pl.Float64,
    "score": pl.String, "positives": pl.Int64, "negatives": pl.Int64, "flagged": pl.Int64,
    "true_positives": pl.Int64, "false_positives": pl.Int64,
    "predicted": pl.Float64, "observed": pl.Float64, "observed_minus_predicted": pl.Float64,
    "calibration_intercept": pl.Float64,
}  # fmt: skip


@python_query(
    "neet_fairness",
    **NEET_FIGURES,
    # A group's size is the sum of its positives and negatives, and flagged the sum of true and false positives:
    # each sum is protected in one table with its parts, else a size hidden to protect a small group (a Female
    # count of 770 hidden for 3 young people of unknown sex) could be rebuilt from the two parts shown beside it.
    counts=[["n", "positives", "negatives"], ["flagged", "true_positives", "false_positives"]],
    derived=FAIRNESS_DERIVED,
    suppress_within=["score", "group_type"],
    title="NEET model fairness by group",
    description="On the test years, at the threshold: for all young people and by sex, ethnicity group and "
    "disability, the true positive rate, false positive rate and positive predictive value with Wilson 95% "
    "intervals, for the model (score = model) and for RONI 4+ (score = roni); and calibration within the group: "
    "the mean predicted risk (RONI: the training years' NEET rate at each score), the share who became NEET or not "
    "known, observed minus predicted, and (with at least 10 young people of each outcome) the calibration "
    "intercept, logit of the outcome with the predicted logit as an offset (0 = right on average for the group).",
    tables=TABLES,
    optional_tables=OPTIONAL,
    params=HOLDOUT_PARAMS,
)
def neet_fairness(cursor, as_of, features_year=10, test_years=2, threshold=None) -> pl.DataFrame:
    return analysis(cursor, as_of, test_years, threshold, features_year).answer("neet_fairness", fairness)


def fairness(result: NeetAnalysis) -> pl.DataFrame:
    if result.test is None:
        return pl.DataFrame(schema=FAIRNESS_SCHEMA)
    test = result.test.with_columns(
        all=pl.lit("All"), sex=pl.col("sex").replace_strict(SEX_WORDS, default=pl.col("sex")).fill_null("Unknown")
    )
    rows = []
    for score, flag, risk in (("model", "flag_model", "p_model"), ("roni", "flag_roni", "p_roni")):
        counts = test.select(
            "all", *GROUPS, tp=pl.col("neet") * pl.col(flag), fp=(pl.col("n") - pl.col("neet")) * pl.col(flag),
            positives=pl.col("neet"), negatives=pl.col("n") - pl.col("neet"), expected=pl.col(risk) * pl.col("n"),
        )  # fmt: skip
        for group_type in ("all", *GROUPS):
            by_group = counts.group_by(group_type).agg(pl.col("tp", "fp", "positives", "negatives", "expected").sum())
            for group, tp, fp, positives, negatives, expected in sorted(by_group.iter_rows(), key=lambda g: str(g[0])):
                rates = rates_from_counts(tp, fp, positives, negatives)
                cells = test.filter(pl.col(group_type).eq_missing(group))
                calibration = group_calibration(cells, risk, expected)
                rows.append({"group_type": group_type, "group": group, "score": score} | rates | calibration)
    return pl.DataFrame(rows, schema=FAIRNESS_SCHEMA)


def group_calibration(cells: pl.DataFrame, risk: str, expected: float) -> dict:
    """Calibration within one group's cells: mean predicted risk, share NEET, their difference, and the calibration
    intercept (logit of the outcome with logit(risk) as an offset) when there are enough of each outcome."""
    n, positives = int(cells["n"].sum()), int(cells["neet"].sum())
    predicted, observed = expected / n, positives / n
    intercept = None
    if min(positives, n - positives) >= MIN_GROUP_OUTCOMES:
        intercept = recalibration_intercept(*per_outcome(cells, risk), slope=1.0)
    return {"predicted": predicted, "observed": observed, "observed_minus_predicted": observed - predicted,
            "calibration_intercept": intercept}  # fmt: skip


RISK_LIST_SCHEMA = {
    "child_id": pl.String, "risk": pl.Float64, "roni_score": pl.Int64, "top_factors": pl.String,
    "age": pl.Int64, "team_id": pl.String, "worker_id": pl.String, "open_case": pl.Boolean,
    "flagged": pl.Boolean, "roni_band": pl.String, "roni_factors": pl.String, "attendance_pct": pl.Float64,
    "school_year": pl.Int64,
}  # fmt: skip


def drivers(fit: LogitFit, top: int = 3) -> pl.Expr:
    """For each young person, the model's clear risk factors they have (odds ratio > 1, q < 0.05), largest first."""
    clear = clear_risk_factors(fit)
    if not clear:
        return pl.lit("")
    parts = [
        pl.when(pl.col(name).fill_null(False)).then(pl.lit(f"{BY_NAME[name].label} (×{np.exp(fit.coef(name)):.1f})"))
        for name in clear
    ]
    return pl.concat_list(parts).list.drop_nulls().list.head(top).list.join("; ")


def clear_risk_factors(fit: LogitFit) -> list[str]:
    """The model's features with an odds ratio above 1 and q < 0.05 (Benjamini-Hochberg), largest first."""
    return sorted(
        (name for name in clear_factors(fit) if fit.coef(name) > 0),
        key=fit.coef,
        reverse=True,
    )


def with_drivers(people: pl.DataFrame, fit: LogitFit, top: int = 3) -> pl.DataFrame:
    """people with top_factors (drivers), worked out once per combination of the clear risk factors."""
    clear = clear_risk_factors(fit)
    if not clear:
        return people.with_columns(top_factors=pl.lit(""))
    flags = people.select([pl.col(name).fill_null(False) for name in clear])
    combinations = flags.unique().with_columns(top_factors=drivers(fit, top))
    return people.with_columns(
        flags.join(combinations, on=clear, how="left", maintain_order="left", nulls_equal=True)["top_factors"]
    )


@python_query(
    "neet_risk_list",
    access="child-level",
    roles=("analyst", "team_manager"),
    title="Young people at risk of becoming NEET",
    description="Young people aged 14-16 on as_of with no known EET/NEET status yet, highest predicted risk first: "
    "the model's probability of becoming NEET (fitted on everyone with an outcome), the RONI score, and the clear "
    "risk factors they have. flagged: at or above the threshold that flags as many young people as RONI 4+ did. "
    "Child-level: for managers and analysts, to start a conversation, not to decide.",
    tables=TABLES,
    optional_tables=OPTIONAL,
    params=[
        AS_OF,
        FEATURES_YEAR,
        "team_id str = null ; only young people whose latest referral is held by this team",
        "threshold float = null ; flag at or above this probability; default: the share RONI 4+ flags",
    ],
)
def neet_risk_list(cursor, as_of, features_year=10, team_id=None, threshold=None) -> pl.DataFrame:
    if threshold is not None and not 0 < threshold < 1:
        raise BadParameter("neet_risk_list: threshold must be a probability between 0 and 1")
    fitted = model(cursor, as_of, features_year)
    scored = fitted.answer("neet_risk_list", lambda m: score_pending(m, pending_people(cursor, as_of, features_year)))
    if team_id is not None:
        scored = scored.filter(pl.col("team_id") == team_id)
    if fitted.risk_model is None:
        flagged = pl.lit(None, pl.Boolean)
    else:
        flagged = pl.col("risk") >= (threshold or fitted.full_threshold)
    return scored.with_columns(flagged=flagged).select(list(RISK_LIST_SCHEMA))


def score_pending(fitted: NeetModel, pending: pl.DataFrame) -> pl.DataFrame:
    """The young people still to come, scored by the full model, highest risk first (the risk list but flagged)."""
    if fitted.full is None or fitted.risk_model is None:
        scored = pending.with_columns(risk=pl.lit(None, pl.Float64), top_factors=pl.lit(""))
    else:
        scored = with_drivers(pending, fitted.full).with_columns(
            risk=pl.Series(fitted.risk_model.predict(pending), dtype=pl.Float64)
        )
    return (
        scored.with_columns(
            # An expression, not map_elements: Python on polars' worker threads can deadlock the app server.
            roni_band=pl.when(pl.col("roni_score") >= RONI_FLAG)
            .then(pl.lit(roni_band(RONI_FLAG)))
            .when(pl.col("roni_score") >= 2)
            .then(pl.lit(roni_band(2)))
            .when(pl.col("roni_score").is_not_null())
            .then(pl.lit(roni_band(0))),
            school_year=pl.col("academic_year"),
        )
        .sort(["risk", "roni_score", "child_id"], descending=[True, True, False], nulls_last=True)
        .select([pl.col(c).cast(t) for c, t in RISK_LIST_SCHEMA.items() if c != "flagged"])
    )

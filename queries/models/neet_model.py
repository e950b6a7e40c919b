"""The statistics behind the NEET page: a grouped logistic model, the RONI score, and how good both are.

Pure functions on small tables (one row per young person, per cell of young people counted alike, or per
covariate pattern); no DuckDB here.

* Logistic regression fitted on covariate patterns by IRLS as statsmodels' GLM does it (Binomial family,
  (NEET, not NEET) counts per pattern; see fit_logit). Every feature is binary, so young people with the
  same features form one pattern, and the grouped likelihood has the same maximum, coefficients and
  standard errors as the one-row-per-person fit (it differs only by a constant). Wald 95% intervals and
  p-values.
* RONI (Risk of NEET Indicator), Oxfordshire criteria as in domain.md, from the fields an extract has; the
  same score from the model's features, so that cells of young people have one.
* Accuracy on a holdout: AUC with the Hanley-McNeil interval and Brier score (queries.stats), DeLong's
  test for the difference of two correlated AUCs (DeLong, DeLong & Clarke-Pearson 1988, Biometrics
  44:837; the fast midrank algorithm of Sun & Xu 2014, IEEE SPL 21:1389), calibration by tenths of risk,
  and true/false positive rates and positive predictive value by group with Wilson intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from queries.libraries import library
from queries.stats import auc_with_ci, benjamini_hochberg, brier_score, wilson_intervals
from queries.stats.distributions import average_ranks, normal_ppf, normal_sf

special = library("scipy.special")
sm = library("statsmodels.api")

# ---- the features --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    column: str
    label: str  # short, for a chart
    who: str  # completes "Young people who …"
    reference: str  # compared with …
    source: str  # education or social care


FEATURES = [
    Feature("attendance_below_85", "Attendance below 85%", "attended less than 85% of school",
            "those attending 90% or more", "education"),
    Feature("attendance_85_to_90", "Attendance 85–90%", "attended 85–90% of school",
            "those attending 90% or more", "education"),
    Feature("attendance_unknown", "Attendance not recorded", "had no attendance recorded",
            "those attending 90% or more", "education"),
    Feature("suspended_once", "One suspension", "were suspended once in the year", "those not suspended", "education"),
    Feature("suspended_2_plus", "Two or more suspensions", "were suspended two or more times in the year",
            "those not suspended", "education"),
    Feature("permanent_exclusion", "Permanently excluded", "were permanently excluded", "other young people", "education"),
    Feature("sen_support", "SEN support", "had SEN support", "those with no special educational needs", "education"),
    Feature("ehcp", "EHC plan", "had an EHC plan", "those with no special educational needs", "education"),
    Feature("fsm", "Free school meals", "had free school meals", "other young people", "education"),
    Feature("eal", "English as an additional language", "had English as an additional language", "other young people",
            "education"),
    Feature("alternative_provision", "Alternative provision", "were in alternative provision", "other young people",
            "education"),
    Feature("young_carer", "Young carer", "were young carers", "other young people", "education"),
    Feature("young_parent", "Young parent", "were young parents", "other young people", "education"),
    Feature("yot", "Youth offending team", "were supervised by the youth offending team", "other young people", "education"),
    Feature("child_in_need", "Ever on a CIN plan", "had ever been on a child in need plan", "other young people",
            "social care"),
    Feature("cp_plan", "Ever on a CP plan", "had ever been on a child protection plan", "other young people", "social care"),
    Feature("looked_after", "Ever looked after", "had ever been looked after", "other young people", "social care"),
    Feature("referrals_2", "Two referrals", "had two referrals", "those with none or one", "social care"),
    Feature("referrals_3_plus", "Three or more referrals", "had three or more referrals", "those with none or one",
            "social care"),
    Feature("parent_domestic_abuse", "Parent: domestic abuse", "had domestic abuse recorded for a parent",
            "other young people", "social care"),
    Feature("parent_mental_health", "Parent: mental health", "had a parent's mental health recorded as a factor",
            "other young people", "social care"),
    Feature("parent_substance_misuse", "Parent: alcohol or drugs", "had a parent's alcohol or drug misuse recorded",
            "other young people", "social care"),
]  # fmt: skip
FEATURE_NAMES = [f.column for f in FEATURES]
BY_NAME = {f.column: f for f in FEATURES}

# A feature is estimated only when at least this many young people have it and this many do not, and both
# outcomes occur among those who have it (otherwise its odds ratio is zero or infinite).
MIN_WITH_FEATURE = 10
# The model is fitted only when the fitting set holds at least this many of each outcome.
MIN_EACH_OUTCOME = 20


# ---- the model -----------------------------------------------------------------------------------------------


@dataclass
class LogitFit:
    """A fitted logistic model: coefficients by name ('const' first), standard errors, p-values."""

    names: list[str]
    params: np.ndarray
    bse: np.ndarray
    pvalues: np.ndarray
    conf_low: np.ndarray
    conf_high: np.ndarray
    n: float
    positives: float
    patterns: int
    dropped: list[str]  # features left out as not estimable

    def coef(self, name: str) -> float:
        return float(self.params[self.names.index(name)]) if name in self.names else 0.0

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """P(NEET) for each row of a frame holding the feature columns (booleans)."""
        logit = np.full(frame.height, self.coef("const"))
        for name in self.names[1:]:
            logit += self.coef(name) * frame[name].fill_null(False).cast(pl.Float64).to_numpy()
        return special.expit(logit)


def fit_logit(design, successes, trials, names: list[str]) -> LogitFit:
    """Maximum-likelihood logistic regression of `successes` out of `trials` per row on `design` (+ constant).

    One row per person (trials 1) or per covariate pattern (trials = its size): the same estimates. Wald
    intervals and z-test p-values.

    Iteratively reweighted least squares as statsmodels' GLM (Binomial family, logit link, endog as successes and
    failures) does it: the same start (mu = (proportion + 0.5) / 2), the same stop (the deviance changes by at most
    1e-12) and the covariance from the last step's weights. Each step solves the k x k normal equations instead of
    a QR of the whole design: the estimates agree with statsmodels' to about 1e-12 (tests/test_neet.py), and a QR of
    all of England's 36,000 covariate patterns took 0.2-0.6 s a step under OpenBLAS's threads on a busy two-core
    machine (the normal equations: a few ms).
    """
    x = np.asarray(design, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    y = np.asarray(successes, dtype=float)
    m = np.asarray(trials, dtype=float)
    exog = np.column_stack([np.ones(len(y)), x])
    proportion = y / m
    mu = (proportion + 0.5) / 2
    eta = np.log(mu / (1 - mu))
    deviance = [np.inf, _binomial_deviance(y, m, mu)]
    for _ in range(200):
        weights = m * mu * (1 - mu)
        weighted = exog.T * weights
        gram = weighted @ exog
        params = np.linalg.solve(gram, weighted @ (eta + (proportion - mu) / (mu * (1 - mu))))
        eta = exog @ params
        mu = special.expit(eta)
        deviance.append(_binomial_deviance(y, m, mu))
        if abs(deviance[-1] - deviance[-2]) <= 1e-12:
            break
    bse = np.sqrt(np.diag(np.linalg.inv(gram)))
    z = normal_ppf(0.975)
    return LogitFit(
        names=["const", *names],
        params=params,
        bse=bse,
        pvalues=2 * normal_sf(np.abs(params / bse)),
        conf_low=params - z * bse,
        conf_high=params + z * bse,
        n=float(m.sum()),
        positives=float(y.sum()),
        patterns=len(y),
        dropped=[],
    )


def _binomial_deviance(successes: np.ndarray, trials: np.ndarray, mu: np.ndarray) -> float:
    """2 x the log-likelihood ratio of the saturated model to the fitted probabilities mu, worked out as statsmodels'
    Binomial family does (its stop depends on it)."""
    proportion = successes / trials
    tiny = np.finfo(float).eps
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(proportion / mu, tiny, np.inf)
        other = np.clip((1 - proportion) / (1 - mu), tiny, np.inf)
    return float(2 * np.sum((proportion * np.log(ratio) + (1 - proportion) * np.log(other)) * trials))


def as_cells(people: pl.DataFrame) -> pl.DataFrame:
    """Young people as cells: a frame with n (how many) and neet (how many of them became NEET) is one already;
    one row per young person (neet true/false) is given n = 1."""
    if "n" in people.columns:
        return people
    return people.with_columns(n=pl.lit(1, pl.UInt32), neet=pl.col("neet").cast(pl.UInt32))


def estimable(people: pl.DataFrame, features: list[str]) -> list[str]:
    """The features that vary enough among these young people (with an outcome) to be estimated.

    `people`: one row per young person, or cells (see as_cells)."""
    cells = as_cells(people)
    total = int(cells["n"].sum())
    keep = []
    for name in features:
        flag = cells[name].fill_null(False)
        with_it = int(cells["n"].filter(flag).sum())
        neet_with = int(cells["neet"].filter(flag).sum())
        if with_it >= MIN_WITH_FEATURE and total - with_it >= MIN_WITH_FEATURE and 0 < neet_with < with_it:
            keep.append(name)
    return keep


def covariate_patterns(people: pl.DataFrame, features: list[str]) -> pl.DataFrame:
    """One row per combination of features: how many young people had it (n) and how many became NEET.

    `people`: one row per young person, or cells (see as_cells): the same patterns either way."""
    return (
        as_cells(people)
        .select([pl.col(f).fill_null(False) for f in features] + [pl.col("n"), pl.col("neet")])
        .group_by(features)
        .agg(n=pl.col("n").sum(), neet=pl.col("neet").sum())
        .sort(features)
    )


def fit_neet_model(people: pl.DataFrame, features: list[str] = FEATURE_NAMES) -> LogitFit | None:
    """The NEET model fitted on covariate patterns of young people with a known outcome; None if too few.

    `people`: one row per young person, or cells (see as_cells)."""
    cells = as_cells(people)
    total = int(cells["n"].sum())
    positives = int(cells["neet"].sum()) if cells.height else 0
    if positives < MIN_EACH_OUTCOME or total - positives < MIN_EACH_OUTCOME:
        return None
    used = estimable(cells, features)
    patterns = covariate_patterns(cells, used)
    fit = fit_logit(patterns.select(used).cast(pl.Float64).to_numpy(), patterns["neet"], patterns["n"], used)
    fit.dropped = [f for f in features if f not in used]
    return fit


def odds_ratio_table(fit: LogitFit, people: pl.DataFrame) -> pl.DataFrame:
    """factor, odds_ratio, ci_low, ci_high, p_value, n (young people with the factor), then words.

    `people`: one row per young person, or cells (see as_cells). Features left out of the model are listed
    with null estimates. Largest odds ratio first.
    """
    cells = as_cells(people)
    total = int(cells["n"].sum())
    rows = []
    for feature in FEATURES:
        flag = cells[feature.column].fill_null(False)
        n_with = int(cells["n"].filter(flag).sum())
        neet_with = int(cells["neet"].filter(flag).sum())
        neet_without = int(cells["neet"].filter(~flag).sum())
        row = {
            "factor": feature.column,
            "odds_ratio": None,
            "ci_low": None,
            "ci_high": None,
            "p_value": None,
            "n": n_with,
            "label": feature.label,
            "source": feature.source,
            "neet_with": neet_with,
            "pct_neet_with": 100 * neet_with / n_with if n_with else None,
            "n_without": total - n_with,
            "neet_without": neet_without,
            "pct_neet_without": 100 * neet_without / (total - n_with) if total > n_with else None,
            "coefficient": None,
        }
        if feature.column in fit.names:
            i = fit.names.index(feature.column)
            row |= {
                "odds_ratio": math.exp(fit.params[i]),
                "ci_low": math.exp(fit.conf_low[i]),
                "ci_high": math.exp(fit.conf_high[i]),
                "p_value": float(fit.pvalues[i]),
                "coefficient": float(fit.params[i]),
            }
        rows.append(row)
    # Benjamini-Hochberg across the factors estimated, as Patterns does: a finding is q < 0.05, not p < 0.05.
    q_values = benjamini_hochberg([np.nan if r["p_value"] is None else r["p_value"] for r in rows])
    for row, q in zip(rows, q_values, strict=True):
        row["q_value"] = None if np.isnan(q) else float(q)
        row["words"] = odds_ratio_words(feature_by(row["factor"]), row["odds_ratio"], row["ci_low"], row["ci_high"],
                                        row["q_value"])  # fmt: skip
    table = pl.DataFrame(rows, schema=ODDS_SCHEMA)
    return table.sort(["odds_ratio", "factor"], descending=[True, False], nulls_last=True)


ODDS_SCHEMA = {
    "factor": pl.String, "odds_ratio": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "p_value": pl.Float64, "n": pl.Int64, "label": pl.String, "words": pl.String, "source": pl.String,
    "neet_with": pl.Int64, "pct_neet_with": pl.Float64, "n_without": pl.Int64, "neet_without": pl.Int64,
    "pct_neet_without": pl.Float64, "coefficient": pl.Float64, "q_value": pl.Float64,
}  # fmt: skip


def feature_by(column: str) -> Feature:
    return BY_NAME[column]


def clear_factors(fit: LogitFit) -> dict[str, float]:
    """The fitted features whose coefficient is clearly not zero after Benjamini-Hochberg across the features
    (q < 0.05), with their q-values."""
    q_values = benjamini_hochberg(fit.pvalues[1:]) if len(fit.names) > 1 else []
    return {name: float(q) for name, q in zip(fit.names[1:], q_values, strict=True) if q < 0.05}


def odds_ratio_words(feature: Feature, odds_ratio, low, high, q_value) -> str:
    """'Young people who had ever been looked after had about 3.0× the odds of becoming NEET …'."""
    if odds_ratio is None:
        return f"Young people who {feature.who}: too few to estimate."
    interval = f"95% interval {_ratio(low)}–{_ratio(high)}"
    if q_value >= 0.05:  # after Benjamini-Hochberg across the factors
        return (
            f"Young people who {feature.who} were not clearly more or less likely to become NEET than "
            f"{feature.reference} (odds ratio {_ratio(odds_ratio)}, {interval})."
        )
    if odds_ratio >= 1.5:
        size = f"about {odds_ratio:.1f}× the odds"
    elif odds_ratio >= 1:
        size = f"{(odds_ratio - 1) * 100:.0f}% higher odds"
    elif odds_ratio <= 2 / 3:
        size = f"about {1 / odds_ratio:.1f}× lower odds"
    else:
        size = f"{(1 - odds_ratio) * 100:.0f}% lower odds"
    return (
        f"Young people who {feature.who} had {size} of becoming NEET compared with {feature.reference}, "
        f"other factors being equal ({interval})."
    )


def _ratio(value: float) -> str:
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"


# ---- RONI ----------------------------------------------------------------------------------------------------

# (criterion, points, condition on the feature columns). Oxfordshire criteria (domain.md). Exclusions: 1 point
# for a suspension or a permanent exclusion, 2 when the exclusion is most of the absence; an extract has no
# days lost to exclusion, so the proxy is: a permanent exclusion (out of school because of it) scores 2, a
# suspension alone 1. Custody (2 points) has no field in the extract and is left out.
RONI_CRITERIA = [
    ("attendance below 85%", 2, pl.col("attendance_pct") < 85),
    ("attendance 85–90%", 1, (pl.col("attendance_pct") >= 85) & (pl.col("attendance_pct") < 90)),
    ("EAL", 1, pl.col("eal")),
    ("SEN support", 1, pl.col("sen_support")),
    ("EHC plan", 2, pl.col("ehcp")),
    ("permanent exclusion", 2, pl.col("permanent_exclusion")),
    ("suspended", 1, (pl.col("suspensions") > 0) & ~pl.col("permanent_exclusion").fill_null(False)),
    ("alternative provision", 1, pl.col("alternative_provision")),
    ("looked after", 2, pl.col("looked_after")),
    ("young parent", 2, pl.col("young_parent")),
    ("free school meals", 2, pl.col("fsm")),
    ("young carer", 2, pl.col("young_carer")),
    ("youth offending team", 2, pl.col("yot")),
]
RONI_FLAG = 4  # 4+ points: substantial support needed; 2-3: additional support


def with_roni(frame: pl.DataFrame) -> pl.DataFrame:
    """Add roni_score (points) and roni_factors (the criteria met, e.g. 'free school meals 2; EAL 1').

    Needs attendance_pct, suspensions, permanent_exclusion, sen_support, ehcp, fsm, eal, alternative_provision,
    young_carer, young_parent, yot and looked_after; a missing value scores nothing.
    """
    met = [condition.fill_null(False) for _, _, condition in RONI_CRITERIA]
    score = pl.sum_horizontal(
        [pl.when(m).then(points).otherwise(0) for m, (_, points, _) in zip(met, RONI_CRITERIA, strict=True)]
    )
    parts = [
        pl.when(m).then(pl.lit(f"{name} {points}")) for m, (name, points, _) in zip(met, RONI_CRITERIA, strict=True)
    ]
    return frame.with_columns(
        roni_score=score.cast(pl.Int64),
        roni_factors=pl.concat_str(parts, separator="; ", ignore_nulls=True).fill_null(""),
    )


# The same points from the model's features, which are all binary: each criterion above is one feature (or, for a
# suspension, two), with a missing value false. So young people grouped by their features have one RONI score.
RONI_FEATURE_POINTS = [
    (pl.col("attendance_below_85"), 2),
    (pl.col("attendance_85_to_90"), 1),
    (pl.col("eal"), 1),
    (pl.col("sen_support"), 1),
    (pl.col("ehcp"), 2),
    (pl.col("permanent_exclusion"), 2),
    ((pl.col("suspended_once") | pl.col("suspended_2_plus")) & ~pl.col("permanent_exclusion"), 1),
    (pl.col("alternative_provision"), 1),
    (pl.col("looked_after"), 2),
    (pl.col("young_parent"), 2),
    (pl.col("fsm"), 2),
    (pl.col("young_carer"), 2),
    (pl.col("yot"), 2),
]


def roni_from_features() -> pl.Expr:
    """roni_score from the feature columns (missing values already false, as in covariate patterns)."""
    return pl.sum_horizontal([pl.when(met).then(points).otherwise(0) for met, points in RONI_FEATURE_POINTS]).cast(
        pl.Int64
    )


def roni_band(score: int) -> str:
    return "4+: substantial support" if score >= RONI_FLAG else "2–3: additional support" if score >= 2 else "0–1"


# ---- accuracy ------------------------------------------------------------------------------------------------


def delong_difference(score_a, score_b, labels, confidence: float = 0.95) -> tuple[float, float, float, float, float]:
    """AUC(a) - AUC(b) on the same cases: (difference, se, low, high, two-sided p), DeLong et al. (1988).

    Structural components from midranks (Sun & Xu 2014); the variance is that of the paired difference.
    """
    outcome = np.asarray(labels, dtype=bool)
    m, n = int(outcome.sum()), int((~outcome).sum())
    if m < 2 or n < 2:
        return (math.nan,) * 5
    aucs, v10, v01 = [], [], []
    for score in (np.asarray(score_a, float), np.asarray(score_b, float)):
        pos, neg = score[outcome], score[~outcome]
        tz = average_ranks(np.concatenate([pos, neg]))
        tx, ty = average_ranks(pos), average_ranks(neg)
        aucs.append((tz[:m].sum() - m * (m + 1) / 2) / (m * n))
        v10.append((tz[:m] - tx) / n)
        v01.append(1 - (tz[m:] - ty) / m)
    s10, s01 = np.cov(np.vstack(v10)), np.cov(np.vstack(v01))
    contrast = np.array([1.0, -1.0])
    variance = contrast @ s10 @ contrast / m + contrast @ s01 @ contrast / n
    diff = aucs[0] - aucs[1]
    se = math.sqrt(max(variance, 0.0))
    z = normal_ppf(0.5 + confidence / 2)
    p = 2 * normal_sf(abs(diff) / se) if se > 0 else (1.0 if diff == 0 else 0.0)
    return diff, se, diff - z * se, diff + z * se, float(p)


def rates_at_threshold(flagged, labels) -> dict:
    """Counts, TPR, FPR and PPV (each with a Wilson 95% interval) for 0/1 flags against 0/1 outcomes."""
    flag = np.asarray(flagged, dtype=bool)
    outcome = np.asarray(labels, dtype=bool)
    return rates_from_counts(
        int((flag & outcome).sum()), int((flag & ~outcome).sum()), int(outcome.sum()), int((~outcome).sum())
    )


def rates_from_counts(tp: int, fp: int, positives: int, negatives: int) -> dict:
    """rates_at_threshold from the counts: true and false positives, positives and negatives."""
    out = {"n": positives + negatives, "positives": positives, "negatives": negatives, "flagged": tp + fp,
           "true_positives": tp, "false_positives": fp}  # fmt: skip
    for name, hits, total in (("tpr", tp, positives), ("fpr", fp, negatives), ("ppv", tp, tp + fp)):
        low, high = wilson_intervals(hits, total)
        out[name] = hits / total if total else None
        out[f"{name}_low"] = float(low[0]) if total else None
        out[f"{name}_high"] = float(high[0]) if total else None
    return out


def score_summary(prefix: str, scores, probabilities, labels) -> list[tuple[str, float, str]]:
    """(metric, value, about) rows: AUC with its Hanley-McNeil 95% interval and the Brier score."""
    auc, se, low, high = auc_with_ci(scores, labels)
    brier = brier_score(probabilities, labels)
    return [
        (f"{prefix}auc", auc, "area under the ROC curve: the chance a young person who became NEET scores higher "
         "than one who did not (0.5 = guessing, 1 = perfect)"),
        (f"{prefix}auc_se", se, "standard error of the AUC (Hanley & McNeil 1982)"),
        (f"{prefix}auc_ci_low", low, "95% interval for the AUC: low"),
        (f"{prefix}auc_ci_high", high, "95% interval for the AUC: high"),
        (f"{prefix}brier", brier, "Brier score: mean squared error of the predicted probability (lower is better)"),
    ]  # fmt: skip


def calibration_table(probabilities, labels, bins: int = 10) -> pl.DataFrame:
    """bin, predicted (mean probability), observed (NEET rate), n, neet, observed_low/high (Wilson).

    Bins are tenths of the predicted risk (cut at its deciles; tied risks stay together, so there may be fewer).
    """
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels, dtype=float)
    if p.size == 0:
        return pl.DataFrame(schema=CALIBRATION_SCHEMA)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    frame = (
        pl.DataFrame({"bin": index + 1, "p": p, "y": y})
        .group_by("bin")
        .agg(
            predicted=pl.col("p").mean(),
            observed=pl.col("y").mean(),
            n=pl.len().cast(pl.Int64),
            neet=pl.col("y").sum().cast(pl.Int64),
        )  # fmt: skip
        .sort("bin")
    )
    low, high = wilson_intervals(frame["neet"], frame["n"])
    return frame.with_columns(bin=pl.col("bin").cast(pl.Int64), observed_low=pl.Series(low),
                              observed_high=pl.Series(high)).select(list(CALIBRATION_SCHEMA))  # fmt: skip


CALIBRATION_SCHEMA = {
    "bin": pl.Int64, "predicted": pl.Float64, "observed": pl.Float64, "n": pl.Int64, "neet": pl.Int64,
    "observed_low": pl.Float64, "observed_high": pl.Float64,
}  # fmt: skip


def calibration_slope(probabilities, labels, weights=None) -> tuple[float, float]:
    """(calibration slope, calibration-in-the-large) from logit(P(NEET)) = a + b * logit(predicted).

    Slope 1 and intercept 0 (with the slope fixed at 1) mean well calibrated (Cox 1958; Steyerberg 2019).
    `weights`: how many young people each row stands for (frequency weights: the same fit as repeating rows).
    """
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-9, 1 - 1e-9)
    y = np.asarray(labels, dtype=float)
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=float)
    p, y, w = p[w > 0], y[w > 0], w[w > 0]
    if (w * y).sum() == 0 or (w * y).sum() == w.sum():
        return math.nan, math.nan
    lp = np.log(p / (1 - p))
    binomial = sm.families.Binomial()
    slope = sm.GLM(y, sm.add_constant(lp), family=binomial, freq_weights=w).fit().params[1]
    large = sm.GLM(y, np.ones((y.size, 1)), family=binomial, offset=lp, freq_weights=w).fit().params[0]
    return float(slope), float(large)


# ---- the penalised, recalibrated model the risk % comes from -----------------------------------------------------

# Ridge penalties tried (lambda on the summed log-likelihood: maximise loglik - lambda / 2 * sum(beta_j^2), the
# constant not penalised); the one with the smallest cross-validated deviance is used.
PENALTIES = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
FOLDS = 5


def fit_ridge(design, successes, trials, names: list[str], penalty: float) -> LogitFit:
    """Ridge (L2-penalised) logistic regression of `successes` out of `trials` per row on `design` (+ constant).

    Maximises log-likelihood - penalty / 2 * sum of squared coefficients, the constant not penalised: the same
    estimates as statsmodels' GLM(...).fit_regularized(alpha=penalty / n, L1_wt=0) with alpha 0 for the constant
    (tests/test_neet.py). Newton-Raphson (IRLS with the penalty added to the normal equations). The standard
    errors are from the penalised information and are not for inference: the odds ratios come from fit_logit.
    """
    x = np.asarray(design, dtype=float).reshape(len(np.asarray(trials)), -1)
    y, m = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    exog = np.column_stack([np.ones(len(y)), x])
    ridge = penalty * np.diag([0.0] + [1.0] * x.shape[1])
    params = np.zeros(exog.shape[1])
    params[0] = np.log((y.sum() + 0.5) / (m.sum() - y.sum() + 0.5))
    for _ in range(100):
        mu = special.expit(exog @ params)
        information = (exog.T * (m * mu * (1 - mu))) @ exog + ridge
        step = np.linalg.solve(information, exog.T @ (y - m * mu) - ridge @ params)
        params = params + step
        if np.max(np.abs(step)) < 1e-11:
            break
    mu = special.expit(exog @ params)
    bse = np.sqrt(np.diag(np.linalg.inv((exog.T * (m * mu * (1 - mu))) @ exog + ridge)))
    z = normal_ppf(0.975)
    return LogitFit(names=["const", *names], params=params, bse=bse, pvalues=2 * normal_sf(np.abs(params / bse)),
                    conf_low=params - z * bse, conf_high=params + z * bse, n=float(m.sum()), positives=float(y.sum()),
                    patterns=len(y), dropped=[])  # fmt: skip


def fold_counts(counts, folds: int = FOLDS) -> np.ndarray:
    """How many of each row's `counts` fall in each fold (rows x folds): the people counted, taken in row order, are
    dealt to the folds in turn, so every fold gets a fifth of every row, give or take one. No randomness: the same
    cells always give the same folds."""
    c = np.asarray(counts, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(c)[:-1]])
    j = np.arange(folds)[None, :]
    return (start[:, None] + c[:, None] - j - 1) // folds - (start[:, None] - j - 1) // folds


def _deviance(y, m, p) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-2 * np.sum(y * np.log(p) + (m - y) * np.log(1 - p)))


@dataclass
class RiskModel:
    """The probabilities the page shows: a ridge fit, recalibrated (logit p = intercept + slope * ridge logit)."""

    fit: LogitFit
    penalty: float
    recalibration: tuple[float, float]  # (intercept, slope)
    recalibrated_on: str  # in words

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        raw = np.clip(self.fit.predict(frame), 1e-12, 1 - 1e-12)
        intercept, slope = self.recalibration
        return special.expit(intercept + slope * np.log(raw / (1 - raw)))


def fit_risk_model(cells: pl.DataFrame, years_column: str = "outcome_year") -> RiskModel | None:
    """A ridge model on cells, its penalty chosen by 5-fold cross-validation, recalibrated on earlier cohorts.

    With two or more cohorts (by `years_column`), the coefficients are the ridge model of the earlier cohorts and
    the recalibration (logistic regression of the outcome on that model's logit) is fitted on the latest cohort:
    it corrects the spread of the risks and any drift of the NEET rate from one cohort to the next (model
    updating). With one cohort the ridge model is fitted on it and recalibrated on its cross-validated
    predictions. None when
    too few outcomes to fit."""
    cells = as_cells(cells)
    total, positives = int(cells["n"].sum()), int(cells["neet"].sum()) if cells.height else 0
    if positives < MIN_EACH_OUTCOME or total - positives < MIN_EACH_OUTCOME:
        return None
    used = estimable(cells, FEATURE_NAMES)
    patterns = covariate_patterns(cells, used)
    x = patterns.select(used).cast(pl.Float64).to_numpy()
    y, m = patterns["neet"].to_numpy(), patterns["n"].to_numpy()
    y_folds, n_folds = fold_counts(y), fold_counts(m - y)
    deviances, out_of_fold = [], {}
    for penalty in PENALTIES:
        deviance, predicted = 0.0, np.zeros((len(y), FOLDS))
        for k in range(FOLDS):
            train_y = y - y_folds[:, k]
            train_m = m - y_folds[:, k] - n_folds[:, k]
            keep = train_m > 0
            fold = fit_ridge(x[keep], train_y[keep], train_m[keep], used, penalty)
            predicted[:, k] = fold.predict(patterns)
            deviance += _deviance(y_folds[:, k], y_folds[:, k] + n_folds[:, k], predicted[:, k])
        deviances.append(deviance)
        out_of_fold[penalty] = predicted
    penalty = PENALTIES[int(np.argmin(deviances))]
    fit = fit_ridge(x, y, m, used, penalty)
    fit.dropped = [f for f in FEATURE_NAMES if f not in used]
    years = sorted(cells[years_column].unique().to_list()) if years_column in cells.columns else []
    earlier = ridge_on(cells.filter(pl.col(years_column) < years[-1]), used, penalty) if len(years) > 1 else None
    if earlier is not None:
        # Model updating (Steyerberg 2019, ch. 20): the earlier cohorts' model, recalibrated on the latest cohort.
        fit = earlier
        latest = cells.filter(pl.col(years_column) == years[-1])
        p, outcome, weight = per_outcome(latest.with_columns(p=pl.Series(earlier.predict(latest))), "p")
        where = f"the young people whose outcome was complete in {years[-1]}, as predicted from earlier years"
    else:
        p = np.concatenate([out_of_fold[penalty][:, k] for k in range(FOLDS)] * 2)
        outcome = np.repeat([True, False], len(y) * FOLDS)
        weight = np.concatenate([y_folds.T.ravel(), n_folds.T.ravel()])
        where = "cross-validated predictions (only one year of outcomes to train on)"
    slope, _ = calibration_slope(p, outcome, weight)
    intercept = recalibration_intercept(p, outcome, weight, slope)
    if not np.isfinite(slope) or slope <= 0:
        intercept, slope, where = 0.0, 1.0, "not recalibrated (no usable calibration)"
    return RiskModel(fit=fit, penalty=penalty, recalibration=(intercept, slope), recalibrated_on=where)


def ridge_on(cells: pl.DataFrame, used: list[str], penalty: float) -> LogitFit | None:
    """The ridge model with a given penalty and features on some cells (None when too few outcomes)."""
    positives, total = int(cells["neet"].sum()), int(cells["n"].sum())
    if positives < MIN_EACH_OUTCOME or total - positives < MIN_EACH_OUTCOME:
        return None
    patterns = covariate_patterns(cells, used)
    return fit_ridge(patterns.select(used).cast(pl.Float64).to_numpy(), patterns["neet"], patterns["n"], used, penalty)


def per_outcome(cells: pl.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A cells' column twice, for its young people who became NEET and for those who did not: (values, outcomes,
    how many young people each row stands for)."""
    values, n, neet = cells[column].to_numpy(), cells["n"].to_numpy(), cells["neet"].to_numpy()
    outcomes = np.repeat([True, False], cells.height)
    return np.concatenate([values, values]), outcomes, np.concatenate([neet, n - neet])


def recalibration_intercept(probabilities, labels, weights, slope: float) -> float:
    """The intercept of logit P(NEET) = a + slope * logit(predicted), the slope fixed (its maximum likelihood)."""
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-9, 1 - 1e-9)
    y, w = np.asarray(labels, dtype=float), np.asarray(weights, dtype=float)
    p, y, w = p[w > 0], y[w > 0], w[w > 0]
    offset = slope * np.log(p / (1 - p))
    fit = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=offset, freq_weights=w).fit()
    return float(fit.params[0])


def net_benefit(flagged, labels, threshold: float) -> float:
    """Net benefit of acting on `flagged` at risk threshold pt (Vickers & Elkin 2006, Med Decis Making 26:565):
    TP/n - FP/n * pt / (1 - pt), true positives counted as a benefit and false positives weighted by the odds of
    the threshold. Flag everyone for "talk to everyone"; nobody is 0."""
    flag, outcome = np.asarray(flagged, dtype=bool), np.asarray(labels, dtype=bool)
    n = outcome.size
    return float((flag & outcome).sum() / n - (flag & ~outcome).sum() / n * threshold / (1 - threshold))

"""An audit's estimates table: for each question and answer, the sample's share and the cohort's estimate.

Columns: question, answer, sample (cohort, comparison, or difference), answered (children of the
sample with an answer to the question so far), count (of them, with this answer), sample_pct,
cohort_size, estimated_pct with its 95% interval ci_low – ci_high, and estimated_children (the
estimate times the cohort's size). The statistics are workbench/estimates.py's. "Not recorded" is
an answer row of its own; a number question counts "recorded" and "not recorded"; notes are not counted.
A difference row is the cohort's estimated_pct less the comparison's, in percentage points.

`protected_estimates` is what leaves the workbench for a signed-in user: the engine's disclosure
rules (queries/disclosure.py) with this table's declaration, so a user who sees protected figures
gets counts of 1 to 5 hidden (with secondary suppression within each question's answers) and
whatever rests on them; a difference is shown only when both of its estimates are.
"""

from __future__ import annotations

import math

import polars as pl
from sqlalchemy import Engine

from queries.disclosure import protect
from queries.registry import Query, disclosure_fields
from workbench.audits import GROUPS, audit_questions, audit_strata, current_answers
from workbench.estimates import difference_interval, stratified_mean, stratified_proportion
from workbench.questions import NOT_RECORDED

COLUMNS = {
    "question": pl.String, "answer": pl.String, "sample": pl.String, "answered": pl.Int64, "count": pl.Int64,
    "sample_pct": pl.Float64, "cohort_size": pl.Int64, "estimated_pct": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "estimated_children": pl.Int64,
}  # fmt: skip
PERCENTS = ("estimated_pct", "ci_low", "ci_high")

# The table's access and disclosure declaration, as a question's would be (queries/registry.py).
ESTIMATES = Query(
    name="audit_estimates",
    title="Case-file audit estimates",
    description="Estimates for a cohort from a case-file audit's sample (workbench).",
    tables=(),
    params=(),
    **disclosure_fields(
        "audit_estimates",
        access="aggregate",
        roles=("analyst", "head_of_service", "team_manager", "social_worker"),
        counts=[("count",), ("answered",), ("cohort_size",)],
        comparison_counts=(),
        derived={
            "sample_pct": ("count", "answered"),
            **{c: ("count", "answered", "cohort_size") for c in (*PERCENTS, "estimated_children")},
        },
        protection="suppression",
        suppress_within=("question", "sample"),
    ),
)


def _percent(value: float) -> float | None:
    return None if math.isnan(value) else round(100 * value, 1)


def _matches(answer: str, values: pl.Series) -> pl.Series:
    if answer == "recorded":  # a number question: any number
        return values != NOT_RECORDED
    return values == answer


def estimate_table(workspace: Engine, name: str) -> pl.DataFrame:
    """The exact estimates of an audit (for an analyst, or the command line without --as)."""
    sizes = audit_strata(workspace, name)
    current = current_answers(workspace, name)
    rows = []
    for _, question in audit_questions(workspace, name):
        answered_by_group: dict[str, dict] = {}
        for group in (g for g in GROUPS if g in sizes["sample_group"].to_list()):
            group_strata = sizes.filter(pl.col("sample_group") == group)
            names, cohort_sizes = group_strata["stratum"].to_list(), group_strata["cohort_size"].to_list()
            given = current.filter((pl.col("sample_group") == group) & (pl.col("question") == question.code))
            answered = [given.filter(pl.col("stratum") == s).height for s in names]
            for answer in question.answers:
                counts = [int(_matches(answer, given.filter(pl.col("stratum") == s)["value"]).sum()) for s in names]
                p, _, low, high = stratified_proportion(cohort_sizes, answered, counts)
                n, x, total = sum(answered), sum(counts), sum(cohort_sizes)
                answered_by_group.setdefault(answer, {})[group] = (p, low, high)
                rows.append({
                    "question": question.code, "answer": answer, "sample": group, "answered": n, "count": x,
                    "sample_pct": round(100 * x / n, 1) if n else None, "cohort_size": total,
                    "estimated_pct": _percent(p), "ci_low": _percent(low), "ci_high": _percent(high),
                    "estimated_children": None if math.isnan(p) else round(p * total),
                })  # fmt: skip
        for answer, by_group in answered_by_group.items():
            if len(by_group) == 2:
                difference, low, high = difference_interval(*by_group["cohort"], *by_group["comparison"])
                rows.append({
                    "question": question.code, "answer": answer, "sample": "difference",
                    "estimated_pct": _percent(difference), "ci_low": _percent(low), "ci_high": _percent(high),
                })  # fmt: skip
    return pl.DataFrame(rows, schema=COLUMNS, orient="row") if rows else pl.DataFrame(schema=COLUMNS)


def protected_estimates(frame: pl.DataFrame, scope) -> pl.DataFrame:
    """The estimates as this user may see them (None or an analyst: exact; see the module)."""
    if scope is None or scope.sees_everything:
        return frame
    is_difference = pl.col("sample") == "difference"
    shown = protect(frame.filter(~is_difference), ESTIMATES, scope)
    visible = shown.filter(pl.col("estimated_pct").is_not_null())
    both = visible.group_by("question", "answer").agg(pl.len().alias("_n")).filter(pl.col("_n") == 2)
    differences = frame.filter(is_difference).join(both.select("question", "answer"), on=["question", "answer"])
    hidden = frame.filter(is_difference).join(both.select("question", "answer"), on=["question", "answer"], how="anti")
    hidden = hidden.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in PERCENTS)
    order = frame.with_row_index("_row").select("question", "answer", "sample", "_row")
    out = pl.concat([shown, differences, hidden], how="vertical_relaxed")
    return out.join(order, on=["question", "answer", "sample"]).sort("_row").drop("_row")


MEAN_COLUMNS = {
    "question": pl.String, "sample": pl.String, "answered": pl.Int64, "sample_mean": pl.Float64,
    "cohort_size": pl.Int64, "estimated_mean": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
}  # fmt: skip

MEANS = Query(
    name="audit_means",
    title="Case-file audit means",
    description="The cohort's mean of each number question, from a case-file audit's sample (workbench).",
    tables=(),
    params=(),
    **disclosure_fields(
        "audit_means",
        access="aggregate",
        roles=("analyst", "head_of_service", "team_manager", "social_worker"),
        counts=[("answered",), ("cohort_size",)],
        comparison_counts=(),
        derived={c: ("answered",) for c in ("sample_mean", "estimated_mean", "ci_low", "ci_high")},
        protection="suppression",
    ),
)


def mean_table(workspace: Engine, name: str) -> pl.DataFrame:
    """For each number question and sample: the answers' mean and the cohort's estimated mean with its 95% interval.

    Answers "not recorded" are left out (the estimates table counts them); workbench/estimates.py's stratified_mean.
    """
    sizes = audit_strata(workspace, name)
    current = current_answers(workspace, name).filter(pl.col("value") != NOT_RECORDED)
    rows = []
    for _, question in audit_questions(workspace, name):
        if question.kind != "number":
            continue
        for group in (g for g in GROUPS if g in sizes["sample_group"].to_list()):
            group_strata = sizes.filter(pl.col("sample_group") == group)
            given = current.filter((pl.col("sample_group") == group) & (pl.col("question") == question.code))
            values = [
                given.filter(pl.col("stratum") == s)["value"].cast(pl.Float64).to_list()
                for s in group_strata["stratum"]
            ]
            estimate, _, low, high = stratified_mean(group_strata["cohort_size"].to_list(), values)
            answered = sum(len(v) for v in values)
            rows.append({
                "question": question.code, "sample": group, "answered": answered,
                "sample_mean": round(sum(map(sum, values)) / answered, 2) if answered else None,
                "cohort_size": int(group_strata["cohort_size"].sum()),
                **{c: None if math.isnan(v) else round(v, 2)
                   for c, v in (("estimated_mean", estimate), ("ci_low", low), ("ci_high", high))},
            })  # fmt: skip
    return pl.DataFrame(rows, schema=MEAN_COLUMNS, orient="row") if rows else pl.DataFrame(schema=MEAN_COLUMNS)


def protected_means(frame: pl.DataFrame, scope) -> pl.DataFrame:
    """The means as this user may see them (None or an analyst: exact); a mean of 1 to 5 answers is hidden."""
    if scope is None or scope.sees_everything:
        return frame
    return protect(frame, MEANS, scope)

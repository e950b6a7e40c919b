"""Audit factors: an audited question made a local factor that Patterns shows beside recorded factors.

An analyst names an answer to an audit's question as a factor (code, label; source `case_file_audit`),
e.g. "PD: a parent has a personality disorder" for the answer yes to question pd. A child has the factor
when their current answer is that answer. It is known only for the children whose files were read, so
Patterns shows it apart from the recorded factors, **from a sample**: for the Patterns cohort, the
sampled children in it whose answer is recorded (n1) and how many have the factor (x1); the same for the
comparison group (n2, x2), each with a 95% Wilson interval, and the difference with Newcombe's interval.
"Not recorded" answers are counted apart (not_recorded), never folded into "no".

The share is of the children whose files were read: an estimate for the cohort when the sample is a
random sample of it (a proportionally stratified audit is self-weighting); the finite-population
correction is not applied, so the interval is if anything wide. It is an estimate for a Patterns
cohort only so far as the audit's sample covers it: `sampled` says how many of its children were read.

The counts leave through the engine's disclosure rules (queries/disclosure.py), as every question's do.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from queries.disclosure import protect
from queries.registry import Query, disclosure_fields
from queries.stats import newcombe_difference_interval, wilson_intervals
from schemas.codes import cin_factor_labels
from workbench.audits import AuditError, audit_questions, current_answers
from workbench.questions import NOT_RECORDED, QuestionError
from workbench.tables import audit_factors, audits, questions

SOURCE = "case_file_audit"
CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
MAX_LABEL = 200

COLUMNS = {
    "factor_code": pl.String, "label": pl.String, "source": pl.String, "audit": pl.String, "sampled": pl.Int64,
    "cohort_n": pl.Int64, "cohort_with": pl.Int64, "cohort_pct": pl.Float64, "cohort_low": pl.Float64,
    "cohort_high": pl.Float64, "rest_n": pl.Int64, "rest_with": pl.Int64, "rest_pct": pl.Float64,
    "rest_low": pl.Float64, "rest_high": pl.Float64, "difference": pl.Float64, "difference_low": pl.Float64,
    "difference_high": pl.Float64, "not_recorded": pl.Int64,
}  # fmt: skip
PERCENTS = {"cohort": ("cohort_pct", "cohort_low", "cohort_high"), "rest": ("rest_pct", "rest_low", "rest_high")}

# The table's access and disclosure declaration, as the Patterns questions' (roles) with suppression.
AUDIT_FACTOR_PREVALENCE = Query(
    name="audit_factor_prevalence",
    title="Factors from case-file audits",
    description="For a Patterns cohort and its comparison group: audited factors among the children whose files "
    "were read (workbench).",
    tables=(),
    params=(),
    **disclosure_fields(
        "audit_factor_prevalence",
        access="aggregate",
        roles=("analyst", "head_of_service", "team_manager"),
        counts=[("cohort_with", "cohort_n"), ("rest_with", "rest_n"), ("sampled",), ("not_recorded",)],
        comparison_counts=(),
        derived={
            **{c: ("cohort_with", "cohort_n") for c in PERCENTS["cohort"]},
            **{c: ("rest_with", "rest_n") for c in PERCENTS["rest"]},
            **{
                c: ("cohort_with", "cohort_n", "rest_with", "rest_n")
                for c in ("difference", "difference_low", "difference_high")
            },
        },  # fmt: skip
        protection="suppression",
    ),
)


class AuditFactorError(Exception):
    """An audit factor cannot be made as asked; the message is safe to show."""


def make_factor(
    workspace: Engine, audit: str, question: str, answer: str, code: str, label: str, created_by: str
) -> str:
    """Name an answer to an audit's question as a local factor; the stored answer (canonical form)."""
    code, label = str(code).strip(), " ".join(str(label).split())
    if code in cin_factor_labels():
        raise AuditFactorError(f"{code} is a CIN census factor code: choose a local code")
    if not CODE.match(code):
        raise AuditFactorError("a factor code is a letter then up to 39 letters, digits or _ (e.g. PD)")
    if not label or len(label) > MAX_LABEL:
        raise AuditFactorError(f"the factor's label is 1 to {MAX_LABEL} characters")
    try:
        found = dict((q.code, (question_id, q)) for question_id, q in audit_questions(workspace, audit))
    except AuditError as exc:
        raise AuditFactorError(str(exc)) from None
    if question not in found:
        raise AuditFactorError(f"the audit {audit!r} has no question {question!r}")
    question_id, asked = found[question]
    if asked.kind not in ("yes_no", "category"):
        raise AuditFactorError(f"question {question} is a {asked.kind}: a factor is a yes/no or category answer")
    try:
        answer = asked.answer(answer)
    except QuestionError as exc:
        raise AuditFactorError(str(exc)) from None
    if answer == NOT_RECORDED:
        raise AuditFactorError("'not recorded' cannot be a factor: it is counted apart")
    with workspace.connect() as connection:
        audit_id = connection.execute(select(questions.c.audit_id).where(questions.c.question_id == question_id))
        audit_id = audit_id.scalar()
    try:
        with workspace.begin() as connection:
            connection.execute(
                insert(audit_factors).values(
                    factor_code=code, label=label, audit_id=audit_id, question_id=question_id, answer=answer,
                    created_by=created_by, created_at=dt.datetime.now(dt.UTC),
                )
            )  # fmt: skip
    except IntegrityError:
        raise AuditFactorError(f"there is already an audit factor {code}") from None
    return answer


def list_factors(workspace: Engine) -> pl.DataFrame:
    """Every audit factor: code, label, source, the audit, its question and the answer that is the factor."""
    statement = (
        select(audit_factors.c.factor_code, audit_factors.c.label, audits.c.name, questions.c.code,
               audit_factors.c.answer)
        .join(audits, audits.c.audit_id == audit_factors.c.audit_id)
        .join(questions, questions.c.question_id == audit_factors.c.question_id)
        .order_by(audit_factors.c.factor_code)
    )  # fmt: skip
    with workspace.connect() as connection:
        rows = connection.execute(statement).all()
    schema = {"factor_code": pl.String, "label": pl.String, "audit": pl.String, "question": pl.String,
              "answer": pl.String}  # fmt: skip
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row").with_columns(
        pl.lit(SOURCE).alias("source")
    )


def _members(engine, filters: dict) -> pl.DataFrame:
    return engine.run("audit_cohort", **filters).select("child_id")


def comparison_filters(filters: dict) -> dict:
    """Patterns' comparison group as audit_cohort filters: another team's children, or every child referred."""
    period = {k: v for k, v in filters.items() if k in ("from_date", "to_date", "as_of")}
    if filters.get("compare_team_id"):
        same = {k: v for k, v in filters.items() if k not in ("team_id", "compare_team_id")}
        return same | {"team_id": filters["compare_team_id"]}
    return period


def factor_prevalence(workspace: Engine, engine, filters: dict) -> pl.DataFrame:
    """Each audit factor among the read files of the Patterns cohort (`filters`) and its comparison group.

    Exact counts (an analyst's, or the command line's); `protected_prevalence` is what a user sees.
    """
    factors = list_factors(workspace)
    if factors.is_empty():
        return pl.DataFrame(schema=COLUMNS)
    cohort = _members(engine, {k: v for k, v in filters.items() if k != "compare_team_id"})
    rest = _members(engine, comparison_filters(filters)).join(cohort, on="child_id", how="anti")
    rows = []
    for factor in factors.iter_rows(named=True):
        answers = current_answers(workspace, factor["audit"]).filter(pl.col("question") == factor["question"])
        in_cohort = answers.join(cohort, on="child_id", how="semi")
        in_rest = answers.join(rest, on="child_id", how="semi")
        row = {"factor_code": factor["factor_code"], "label": factor["label"], "source": SOURCE,
               "audit": factor["audit"], "sampled": in_cohort.height,
               "not_recorded": int((in_cohort["value"] == NOT_RECORDED).sum())}  # fmt: skip
        for group, read in (("cohort", in_cohort), ("rest", in_rest)):
            recorded = read.filter(pl.col("value") != NOT_RECORDED)
            n, x = recorded.height, int((recorded["value"] == factor["answer"]).sum())
            low, high = wilson_intervals(np.array([x]), np.array([n]))
            row |= {f"{group}_n": n, f"{group}_with": x}
            row |= dict(zip(PERCENTS[group], _percents(x / n if n else np.nan, low[0], high[0]), strict=True))
        if row["cohort_n"] and row["rest_n"]:
            diff = newcombe_difference_interval(row["cohort_with"], row["cohort_n"], row["rest_with"], row["rest_n"])
            row |= dict(zip(("difference", "difference_low", "difference_high"), _percents(*diff), strict=True))
        rows.append(row)
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


def _percents(*values) -> tuple:
    return tuple(None if np.isnan(v) else round(100 * float(v), 1) for v in values)


def protected_prevalence(frame: pl.DataFrame, scope) -> pl.DataFrame:
    """The table as this user may see it (None or an analyst: exact)."""
    if scope is None or scope.sees_everything:
        return frame
    return protect(frame, AUDIT_FACTOR_PREVALENCE, scope)

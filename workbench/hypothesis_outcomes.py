"""What a hypothesis counts: its outcomes, their options, their words and how each is counted.

Every outcome is a proportion of a cohort's children in a period, so every hypothesis's effect is a
difference in proportions (workbench/hypothesis_effect.py). The counts come from named questions
(DuckDB), except an audit answer, whose answers live in the workspace:

- rereferral: re-referred within 12 months of a referral in the period (hypothesis_outcome);
- factor: a factor recorded in the period (hypothesis_outcome);
- closed: the first case in the period closed within `days` days (hypothesis_outcome);
- service: no new referral within a year of the first assessable episode of a commissioned service
  (any, or `service_id`) started in the period (hypothesis_service_outcome; the Services definitions);
- neet: NEET or activity not known at 16-17, of the children whose outcome is known (hypothesis_neet_outcome);
- audit: of the children of a case-file audit's sample in the cohort whose answer to `question` is
  recorded, those who answered `answer` ("not recorded" answers are left out of both counts, and said so).

An outcome that needs time after the period to be seen (re-referral 365 days, closing `days`) is not
run on an extract whose as_of comes sooner after the period's end (workbench/hypotheses.py).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine

from queries.engine import TableUnavailable
from workbench.audits import AuditError, audit_questions, current_answers
from workbench.questions import NOT_RECORDED, QuestionError

OUTCOMES = ("rereferral", "factor", "closed", "service", "neet", "audit")
DEFAULT_CLOSE_DAYS = 182
MAX_CLOSE_DAYS = 3650


class OutcomeError(ValueError):
    """An outcome asked for is not one ChildStat can count as given; the message is safe to show."""


def check_outcome(
    outcome: str, factor_code: str | None, options: dict | None, workspace: Engine | None = None
) -> tuple[str | None, dict]:
    """The outcome's factor code and options as they are stored; OutcomeError when they do not fit it."""
    options = {k: v for k, v in (options or {}).items() if v not in (None, "")}
    factor_code = (factor_code or "").strip() or None
    if outcome not in OUTCOMES:
        raise OutcomeError(f"the outcome is one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if (outcome == "factor") != (factor_code is not None):
        raise OutcomeError("a factor outcome needs --factor CODE, and only a factor outcome takes one")
    allowed = {"closed": {"days"}, "service": {"service_id"}, "audit": {"audit", "question", "answer"}}
    extra = set(options) - allowed.get(outcome, set())
    if extra:
        raise OutcomeError(f"the outcome {outcome} does not take {', '.join(sorted(extra))}")
    if outcome == "closed":
        days = int(options.get("days", DEFAULT_CLOSE_DAYS))
        if not 1 <= days <= MAX_CLOSE_DAYS:
            raise OutcomeError(f"closed within DAYS: DAYS is 1 to {MAX_CLOSE_DAYS}")
        options["days"] = days
    if outcome == "audit":
        options = _check_audit_answer(options, workspace)
    return factor_code, options


def _check_audit_answer(options: dict, workspace: Engine | None) -> dict:
    if not {"audit", "question", "answer"} <= set(options):
        raise OutcomeError("an audit outcome needs the audit, its question and the answer counted")
    if workspace is None:
        raise OutcomeError("an audit outcome needs the workspace the audit is in")
    try:
        found = {q.code: q for _, q in audit_questions(workspace, options["audit"])}
    except AuditError as exc:
        raise OutcomeError(str(exc)) from None
    question = found.get(options["question"])
    if question is None:
        raise OutcomeError(f"the audit {options['audit']!r} has no question {options['question']!r}")
    if question.kind == "note":
        raise OutcomeError(f"question {question.code} is a note: a hypothesis counts an answer it can compare")
    try:
        answer = question.answer(options["answer"])
    except QuestionError as exc:
        raise OutcomeError(str(exc)) from None
    if answer == NOT_RECORDED:
        raise OutcomeError("count an answer, not 'not recorded' (those are left out of both counts)")
    if question.kind == "number":
        raise OutcomeError(f"question {question.code} is a number: compare a yes/no or category answer")
    return {"audit": " ".join(str(options["audit"]).split()), "question": question.code, "answer": answer}


def describe(outcome: str, factor_code: str | None, options: dict | None) -> str:
    """The outcome in words, e.g. "case closed within 182 days"."""
    options = options or {}
    if outcome == "rereferral":
        return "re-referral within 12 months"
    if outcome == "factor":
        return f"factor {factor_code} recorded"
    if outcome == "closed":
        return f"case closed within {options.get('days', DEFAULT_CLOSE_DAYS)} days"
    if outcome == "service":
        service = options.get("service_id")
        return "no new referral within a year of " + (f"service {service}" if service else "a commissioned service")
    if outcome == "neet":
        return "NEET or activity not known at 16-17"
    return f"answer '{options['answer']}' to {options['question']} in audit {options['audit']}"


def follow_up_days(outcome: str, options: dict | None) -> int:
    """Days after a period's end before its outcome is fully seen (0: as soon as the period ends)."""
    if outcome == "rereferral":
        return 365
    if outcome == "closed":
        return int((options or {}).get("days", DEFAULT_CLOSE_DAYS))
    return 0


QUERY = {"rereferral": "hypothesis_outcome", "factor": "hypothesis_outcome", "closed": "hypothesis_outcome",
         "service": "hypothesis_service_outcome", "neet": "hypothesis_neet_outcome"}  # fmt: skip


def count(engine, workspace: Engine, outcome: str, factor_code, options: dict, period: tuple, cohort: dict):
    """(children of the cohort whose outcome is known in the period, of them with the outcome)."""
    from_date, to_date = period
    if outcome == "audit":
        return _count_audit_answer(engine, workspace, options, from_date, to_date, cohort)
    if outcome == "factor":  # factors is optional to the question (empty when absent): a 0 would mislead here
        reason = engine.unavailable_reason(["factors"])
        if reason:
            raise TableUnavailable(f"a factor outcome cannot be counted: {reason}")
    params = {"from_date": from_date, "to_date": to_date, **cohort}
    if outcome in ("rereferral", "factor", "closed"):
        params |= {"outcome": outcome, "factor_code": factor_code, "within_days": options.get("days")}
    if outcome == "service":
        params["service_id"] = options.get("service_id")
    frame = engine.run(QUERY[outcome], **{k: v for k, v in params.items() if v is not None})
    return int(frame["children"][0]), int(frame["with_outcome"][0])


def _count_audit_answer(engine, workspace, options, from_date, to_date, cohort) -> tuple[int, int]:
    members = engine.run("audit_cohort", from_date=from_date, to_date=to_date, **cohort).select("child_id")
    answers = current_answers(workspace, options["audit"]).filter(
        (pl.col("question") == options["question"]) & (pl.col("value") != NOT_RECORDED)
    )
    known = answers.join(members, on="child_id", how="semi")
    return known.height, int((known["value"] == options["answer"]).sum())

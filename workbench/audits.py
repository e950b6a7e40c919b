"""Case-file audits: create one from a cohort, list its sample, record answers, estimate for the cohort.

An audit is a named, reproducible random sample of a cohort's children (workbench/sampling.py), drawn
from the extract by the `audit_cohort` question (the Patterns cohort filters), with the questions
their files are read for (workbench/questions.py). Everything is written to the workspace database
(workbench/tables.py), never to the extract: the sample and each stratum's size are kept as drawn,
so the audit stays the same when a newer extract arrives.

Answers are appended, never overwritten: a child's current answer to a question is the latest one
recorded, and `answer_history` shows every earlier one with who entered it and when.

The functions take the workspace's SQLAlchemy engine (workbench/workspace.py) and raise AuditError
with a message safe to show; no message names a child.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable

import polars as pl
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from queries.models.patterns import COHORT_FILTERS
from workbench.cohorts import parse_filters
from workbench.questions import Question, QuestionError
from workbench.sampling import SampleError, draw_sample
from workbench.tables import answers, audits, questions, samples, strata

COHORT_KEYS = (*COHORT_FILTERS, "from_date", "to_date")
STRATIFY_BY = ("sex", "age_band", "ethnicity_group")
GROUPS = ("cohort", "comparison")
MAX_NAME = 100


class AuditError(Exception):
    """An audit cannot be created, found or answered as asked; the message is safe to show."""


def parse_cohort(pairs: Iterable[str], option: str = "--cohort") -> dict[str, str]:
    """`key=value` cohort filters (the Patterns cohort's, and from_date / to_date) -> {key: value}."""
    return parse_filters(pairs, option, COHORT_KEYS, AuditError)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _cohort_members(engine, cohort: dict, stratify_by: str | None) -> list[tuple[str, str]]:
    """(child_id, stratum) for every child of the cohort, from the extract (the `audit_cohort` question)."""
    frame = engine.run("audit_cohort", stratify_by=stratify_by, **cohort)
    return list(zip(frame["child_id"].to_list(), frame["stratum"].to_list(), strict=True))


def create_audit(
    workspace: Engine,
    engine,
    name: str,
    cohort: dict,
    size: int,
    seed: int,
    question_list: Iterable[Question] = (),
    stratify_by: str | None = None,
    comparison: dict | None = None,
    comparison_size: int | None = None,
    created_by: str = "command line",
) -> dict:
    """Draw the sample(s) from the extract `engine` opens and keep the audit; a summary of what was drawn.

    The comparison cohort leaves out the children of the cohort, so the two samples are of different
    children (and independent).
    """
    name = " ".join(str(name).split())
    if not name or len(name) > MAX_NAME:
        raise AuditError(f"an audit's name is 1 to {MAX_NAME} characters")
    if stratify_by is not None and stratify_by not in STRATIFY_BY:
        raise AuditError(f"strata can be by {', '.join(STRATIFY_BY)}, not {stratify_by!r}")
    question_list = list(question_list)
    codes = [q.code for q in question_list]
    if len(set(codes)) != len(codes):
        raise AuditError("two questions have the same code")
    if _audit_id(workspace, name, missing_ok=True) is not None:
        raise AuditError(f"there is already an audit named {name!r}")
    members = _cohort_members(engine, cohort, stratify_by)
    drawn: dict[str, tuple] = {}
    try:
        drawn["cohort"] = draw_sample(members, size, seed)
        if comparison:
            in_cohort = {child for child, _ in members}
            others = [m for m in _cohort_members(engine, comparison, stratify_by) if m[0] not in in_cohort]
            drawn["comparison"] = draw_sample(others, comparison_size or size, seed)
    except SampleError as exc:
        which = "comparison cohort" if "cohort" in drawn else "cohort"
        raise AuditError(f"{which}: {exc}") from None
    try:
        with workspace.begin() as connection:
            audit_id = connection.execute(
                insert(audits).values(
                    name=name,
                    cohort=json.dumps(cohort, sort_keys=True),
                    comparison=json.dumps(comparison, sort_keys=True) if comparison else None,
                    stratify_by=stratify_by,
                    sample_size=size,
                    comparison_size=(comparison_size or size) if comparison else None,
                    seed=seed,
                    as_of=engine.as_of,
                    extract_name=engine.extract.la_name,
                    created_by=created_by,
                    created_at=_now(),
                )
            ).inserted_primary_key[0]
            _insert_questions(connection, audit_id, question_list, start=1)
            for group, (group_strata, sample) in drawn.items():
                connection.execute(
                    insert(strata),
                    [
                        {"audit_id": audit_id, "sample_group": group, "stratum": s, "cohort_size": N, "sample_size": n}
                        for s, (N, n) in group_strata.items()
                    ],
                )
                connection.execute(
                    insert(samples),
                    [
                        {"audit_id": audit_id, "child_id": c.child_id, "sample_group": group, "stratum": c.stratum,
                         "sample_order": c.sample_order}
                        for c in sample
                    ],
                )  # fmt: skip
    except IntegrityError:
        raise AuditError(f"there is already an audit named {name!r}") from None
    return {
        group: {"cohort_size": sum(N for N, _ in s.values()), "sample_size": len(sample), "strata": len(s)}
        for group, (s, sample) in drawn.items()
    }


def _insert_questions(connection, audit_id: int, question_list: list[Question], start: int) -> None:
    if question_list:
        connection.execute(
            insert(questions),
            [
                {"audit_id": audit_id, "code": q.code, "label": q.label, "kind": q.kind,
                 "choices": json.dumps(list(q.choices)) if q.choices else None, "position": start + i}
                for i, q in enumerate(question_list)
            ],
        )  # fmt: skip


def add_questions(workspace: Engine, name: str, question_list: Iterable[Question]) -> None:
    """More questions for an existing audit (a question's code cannot be reused)."""
    question_list = list(question_list)
    try:
        with workspace.begin() as connection:
            audit_id = _audit_id(connection, name)
            have = connection.execute(
                select(func.count(), func.coalesce(func.max(questions.c.position), 0)).where(
                    questions.c.audit_id == audit_id
                )
            ).one()
            _insert_questions(connection, audit_id, question_list, start=have[1] + 1)
    except IntegrityError:
        raise AuditError(f"audit {name!r} already has a question with one of these codes") from None


def _audit_id(connectable, name: str, missing_ok: bool = False) -> int | None:
    statement = select(audits.c.audit_id).where(audits.c.name == " ".join(str(name).split()))
    if isinstance(connectable, Engine):
        with connectable.connect() as connection:
            found = connection.execute(statement).scalar()
    else:
        found = connectable.execute(statement).scalar()
    if found is None and not missing_ok:
        raise AuditError(f"there is no audit named {name!r} (python -m workbench audit list shows them)")
    return found


def audit_questions(workspace: Engine, name: str) -> list[tuple[int, Question]]:
    """The audit's questions in the order they were written: (question_id, Question)."""
    with workspace.connect() as connection:
        audit_id = _audit_id(connection, name)
        rows = connection.execute(
            select(questions).where(questions.c.audit_id == audit_id).order_by(questions.c.position)
        ).all()
    return [(r.question_id, Question(r.code, r.label, r.kind, tuple(json.loads(r.choices or "[]")))) for r in rows]


def list_audits(workspace: Engine) -> pl.DataFrame:
    """Every audit: name, cohort, sizes, seed, the extract it was drawn from, who made it and when."""
    with workspace.connect() as connection:
        rows = connection.execute(select(audits).order_by(audits.c.created_at, audits.c.audit_id)).all()
    columns = ["name", "cohort", "comparison", "stratify_by", "sample_size", "comparison_size", "seed", "as_of",
               "extract_name", "created_by", "created_at"]  # fmt: skip
    return pl.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], schema=_schema(columns), orient="row")


def _schema(columns: list[str]) -> dict:
    types = {"sample_size": pl.Int64, "comparison_size": pl.Int64, "seed": pl.Int64, "as_of": pl.Date,
             "created_at": pl.Datetime, "recorded_at": pl.Datetime, "sample_order": pl.Int64}  # fmt: skip
    return {c: types.get(c, pl.String) for c in columns}


def audit_sample(workspace: Engine, name: str, group: str | None = None) -> pl.DataFrame:
    """The sampled children in reading order: child_id, stratum, sample_order (and sample_group)."""
    with workspace.connect() as connection:
        audit_id = _audit_id(connection, name)
        statement = select(samples.c.child_id, samples.c.stratum, samples.c.sample_order, samples.c.sample_group)
        statement = statement.where(samples.c.audit_id == audit_id)
        if group is not None:
            statement = statement.where(samples.c.sample_group == group)
        rows = connection.execute(statement.order_by(samples.c.sample_group, samples.c.sample_order)).all()
    columns = ["child_id", "stratum", "sample_order", "sample_group"]
    return pl.DataFrame([tuple(r) for r in rows], schema=_schema(columns), orient="row")


def record_answers(
    workspace: Engine,
    name: str,
    child_id: str,
    given: dict[str, str],
    by: str,
    may_record: Callable[[str], bool] | None = None,
) -> dict[str, str]:
    """Record one child's answers ({question code: answer}) as entered by `by`; the answers as stored.

    Each answer is a new row (an earlier answer to the same question stays, as history). All of the
    child's answers given here are written together or not at all. `may_record(child_id)` is the
    reviewer's access rule (the page: the children the engine lets a team manager or social worker see).
    """
    by = str(by or "").strip()
    if not by:
        raise AuditError("say who is recording the answers (--by EMAIL)")
    if not given:
        raise AuditError("give at least one answer as CODE=ANSWER")
    if may_record is not None and not may_record(child_id):
        raise AuditError("you may record answers only for children whose cases you may see")
    with workspace.begin() as connection:
        audit_id = _audit_id(connection, name)
        in_sample = connection.execute(
            select(samples.c.child_id).where(samples.c.audit_id == audit_id, samples.c.child_id == child_id)
        ).scalar()
        if in_sample is None:
            raise AuditError(f"that child is not in the sample of audit {name!r}")
        by_code = {
            r.code: (r.question_id, Question(r.code, r.label, r.kind, tuple(json.loads(r.choices or "[]"))))
            for r in connection.execute(select(questions).where(questions.c.audit_id == audit_id))
        }
        rows, stored = [], {}
        for code, raw in given.items():
            if code not in by_code:
                known = ", ".join(sorted(by_code)) or "none yet"
                raise AuditError(f"audit {name!r} has no question {code!r} (questions: {known})")
            question_id, question = by_code[code]
            try:
                stored[code] = question.answer(raw)
            except QuestionError as exc:
                raise AuditError(str(exc)) from None
            rows.append({"audit_id": audit_id, "child_id": child_id, "question_id": question_id,
                         "value": stored[code], "recorded_by": by, "recorded_at": _now()})  # fmt: skip
        connection.execute(insert(answers), rows)
    return stored


def _answer_rows(workspace: Engine, name: str, current_only: bool, child_id: str | None = None):
    with workspace.connect() as connection:
        audit_id = _audit_id(connection, name)
        statement = (
            select(
                answers.c.answer_id,
                answers.c.child_id,
                samples.c.sample_group,
                samples.c.stratum,
                questions.c.code.label("question"),
                answers.c.value,
                answers.c.recorded_by,
                answers.c.recorded_at,
            )  # fmt: skip
            .join(questions, questions.c.question_id == answers.c.question_id)
            .join(samples, (samples.c.audit_id == answers.c.audit_id) & (samples.c.child_id == answers.c.child_id))
            .where(answers.c.audit_id == audit_id)
        )
        if child_id is not None:
            statement = statement.where(answers.c.child_id == child_id)
        if current_only:
            latest = (
                select(func.max(answers.c.answer_id))
                .where(answers.c.audit_id == audit_id)
                .group_by(answers.c.question_id, answers.c.child_id)
            )
            statement = statement.where(answers.c.answer_id.in_(latest))
        return connection.execute(statement.order_by(answers.c.answer_id)).all()


ANSWER_COLUMNS = ["child_id", "sample_group", "stratum", "question", "value", "recorded_by", "recorded_at"]


def current_answers(workspace: Engine, name: str) -> pl.DataFrame:
    """Each child's latest answer to each question, with who entered it and when."""
    rows = _answer_rows(workspace, name, current_only=True)
    return pl.DataFrame([tuple(r)[1:] for r in rows], schema=_schema(ANSWER_COLUMNS), orient="row")


def answer_history(workspace: Engine, name: str, child_id: str | None = None) -> pl.DataFrame:
    """Every answer ever recorded (oldest first), `current` marking the one that stands."""
    rows = _answer_rows(workspace, name, current_only=False, child_id=child_id)
    frame = pl.DataFrame([tuple(r)[1:] for r in rows], schema=_schema(ANSWER_COLUMNS), orient="row")
    latest = frame.with_row_index("_row").group_by("child_id", "question").agg(pl.col("_row").max())["_row"]
    return frame.with_row_index("_row").with_columns(current=pl.col("_row").is_in(latest.implode())).drop("_row")


def progress(workspace: Engine, name: str) -> pl.DataFrame:
    """For each sample and question: children sampled, answered so far, and the share done."""
    sample = audit_sample(workspace, name)
    done = current_answers(workspace, name)
    rows = []
    for _, question in audit_questions(workspace, name):
        for group in GROUPS:
            sampled = sample.filter(pl.col("sample_group") == group).height
            if sampled:
                answered = done.filter((pl.col("sample_group") == group) & (pl.col("question") == question.code))
                rows.append((group, question.code, sampled, answered.height))
    frame = pl.DataFrame(rows, schema={"sample": pl.String, "question": pl.String, "sampled": pl.Int64,
                                       "answered": pl.Int64}, orient="row")  # fmt: skip
    return frame.with_columns(done_pct=(100 * pl.col("answered") / pl.col("sampled")).round(1))


def audit_strata(workspace: Engine, name: str) -> pl.DataFrame:
    """Each sample's strata: children in the cohort (N_h) and in the sample (n_h)."""
    with workspace.connect() as connection:
        audit_id = _audit_id(connection, name)
        rows = connection.execute(
            select(strata.c.sample_group, strata.c.stratum, strata.c.cohort_size, strata.c.sample_size)
            .where(strata.c.audit_id == audit_id)
            .order_by(strata.c.sample_group, strata.c.stratum)
        ).all()
    schema = {"sample_group": pl.String, "stratum": pl.String, "cohort_size": pl.Int64, "sample_size": pl.Int64}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")

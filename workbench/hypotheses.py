"""A register of hypotheses: write one down with its test and periods, run it on each extract, keep every result.

A hypothesis is a statement in words and a test ChildStat can run: two cohorts (the Patterns cohort
filters) and an outcome (workbench/hypothesis_outcomes.py: re-referral within 12 months, a factor's
prevalence, time to close, a service's success, NEET, an audit answer) compared on a discovery period
and then on a confirmation period. Both periods are fixed when the hypothesis is
written, before any result exists, and never change. Each run counts the outcome in each cohort with
the `hypothesis_outcome` question (DuckDB) and appends a result per period (workbench/hypothesis_effect.py)
with the extract's as_of and signature: results are never overwritten, so a newer extract adds history
(running again on the extract a period was last run on adds nothing).

Re-referral needs 12 months' follow-up after a period, and "closed within N days" N days: a period that
ends sooner than that before the extract's as_of is not run yet (it would undercount), and `run` says
when it can be. A hypothesis whose extract lacks a table its outcome needs is not run, and `run` says why.

The functions take the workspace's SQLAlchemy engine (workbench/workspace.py) and raise
HypothesisError with a message safe to show; nothing here names a child.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable

import polars as pl
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from queries.engine import QueryError
from queries.models.patterns import COHORT_FILTERS
from workbench.cohorts import parse_filters
from workbench.hypothesis_effect import difference_in_proportions
from workbench.hypothesis_outcomes import OutcomeError, check_outcome, count, describe, follow_up_days
from workbench.tables import hypotheses, hypothesis_results

STATUSES = ("open", "supported", "not_supported", "retired")
PERIODS = ("discovery", "confirmation")
MAX_NAME = 100


class HypothesisError(Exception):
    """A hypothesis cannot be written, found or run as asked; the message is safe to show."""


def parse_cohort(pairs: Iterable[str], option: str) -> dict[str, str]:
    """`key=value` Patterns cohort filters -> {key: value}; the periods, not the cohort, give the dates."""
    return parse_filters(pairs, option, COHORT_FILTERS, HypothesisError)


def parse_period(text: str, option: str) -> tuple[dt.date, dt.date]:
    """'2024-04-01..2025-03-31' -> (first day, last day); the first on or before the last."""
    start, sep, end = str(text).partition("..")
    try:
        period = dt.date.fromisoformat(start.strip()), dt.date.fromisoformat(end.strip())
    except ValueError:
        raise HypothesisError(f"{option} is FROM..TO with dates YYYY-MM-DD, got {text!r}") from None
    if not sep or period[0] > period[1]:
        raise HypothesisError(f"{option} is FROM..TO with FROM on or before TO, got {text!r}")
    return period


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_hypothesis(
    workspace: Engine,
    name: str,
    statement: str,
    cohort: dict,
    comparison: dict,
    outcome: str,
    discovery: tuple[dt.date, dt.date],
    confirmation: tuple[dt.date, dt.date],
    factor_code: str | None = None,
    created_by: str = "command line",
    outcome_options: dict | None = None,
) -> None:
    """Write a hypothesis down, open, with its periods fixed from now on."""
    name = " ".join(str(name).split())
    if not name or len(name) > MAX_NAME:
        raise HypothesisError(f"a hypothesis's name is 1 to {MAX_NAME} characters")
    if not str(statement).strip():
        raise HypothesisError("write the hypothesis in words (--statement)")
    try:
        factor_code, outcome_options = check_outcome(outcome, factor_code, outcome_options, workspace)
    except OutcomeError as exc:
        raise HypothesisError(str(exc)) from None
    if cohort == comparison:
        raise HypothesisError("the two cohorts are the same: compare the cohort with a different one")
    if confirmation[0] <= discovery[1]:
        raise HypothesisError("the confirmation period starts after the discovery period ends")
    try:
        with workspace.begin() as connection:
            connection.execute(
                insert(hypotheses).values(
                    name=name, statement=str(statement).strip(),
                    cohort=json.dumps(cohort, sort_keys=True), comparison=json.dumps(comparison, sort_keys=True),
                    outcome=outcome, factor_code=factor_code,
                    outcome_options=json.dumps(outcome_options, sort_keys=True) if outcome_options else None,
                    discovery_from=discovery[0], discovery_to=discovery[1],
                    confirmation_from=confirmation[0], confirmation_to=confirmation[1],
                    status="open", note=None, created_by=created_by, created_at=_now(),
                )
            )  # fmt: skip
    except IntegrityError:
        raise HypothesisError(f"there is already a hypothesis named {name!r}") from None


def _find(connection, name: str):
    row = connection.execute(select(hypotheses).where(hypotheses.c.name == " ".join(str(name).split()))).first()
    if row is None:
        raise HypothesisError(f"there is no hypothesis named {name!r} (python -m workbench hypothesis list shows them)")
    return row


def set_status(workspace: Engine, name: str, status: str, note: str | None = None) -> None:
    """The analyst's verdict (open, supported, not_supported, retired) and note; the results stay as they are."""
    if status not in STATUSES:
        raise HypothesisError(f"the status is one of {', '.join(STATUSES)}, not {status!r}")
    with workspace.begin() as connection:
        row = _find(connection, name)
        values = {"status": status} | ({"note": note} if note is not None else {})
        connection.execute(update(hypotheses).where(hypotheses.c.hypothesis_id == row.hypothesis_id).values(**values))


def extract_signature(engine) -> str:
    """A short digest of the extract's files (names, sizes, times): a different extract, a different signature."""
    return hashlib.sha256(engine.extract.signature().encode()).hexdigest()[:16]


def _waits_for(row, period: str, as_of: dt.date) -> str | None:
    """Why a period cannot be run on this extract yet, or None when it can."""
    end = getattr(row, f"{period}_to")
    if end > as_of:
        return f"the period ends {end}, after the extract's as_of {as_of}"
    days = follow_up_days(row.outcome, _options(row))
    if days and end + dt.timedelta(days=days) > as_of:
        ready = end + dt.timedelta(days=days)
        return f"{_words(row)} needs {days} days' follow-up after {end}: an extract with as_of on or after {ready}"
    return None


def _options(row) -> dict:
    return json.loads(row.outcome_options) if row.outcome_options else {}


def _words(row) -> str:
    return describe(row.outcome, row.factor_code, _options(row))


def _run_on(workspace: Engine, as_of: dt.date, signature: str) -> set[tuple[int, str]]:
    """(hypothesis_id, period) whose latest result is from this very extract: running again would add nothing."""
    with workspace.connect() as connection:
        rows = connection.execute(select(hypothesis_results).order_by(hypothesis_results.c.result_id)).all()
    latest = {(r.hypothesis_id, r.period): (r.as_of, r.extract_signature) for r in rows}
    return {key for key, extract in latest.items() if extract == (as_of, signature)}


def _count(engine, workspace: Engine, row, period: str, cohort: dict) -> tuple[int, int]:
    """(children of the cohort in the period whose outcome is known, of them with the outcome)."""
    dates = getattr(row, f"{period}_from"), getattr(row, f"{period}_to")
    return count(engine, workspace, row.outcome, row.factor_code, _options(row), dates, cohort)


def run_hypotheses(workspace: Engine, engine, name: str | None = None) -> list[dict]:
    """Run every open hypothesis (or the one named, unless retired) on the extract `engine` opens.

    Each period that can be run adds a result row; one per hypothesis and period is returned, with
    `not_run` saying why a period was not run (too soon, or already run on this very extract).
    """
    with workspace.connect() as connection:
        if name is None:
            rows = connection.execute(
                select(hypotheses).where(hypotheses.c.status == "open").order_by(hypotheses.c.hypothesis_id)
            ).all()
        else:
            rows = [_find(connection, name)]
            if rows[0].status == "retired":
                raise HypothesisError(f"hypothesis {rows[0].name!r} is retired: set it open again to run it")
    as_of, signature, run_at = engine.as_of, extract_signature(engine), _now()
    already_run = _run_on(workspace, as_of, signature)
    done: list[dict] = []
    for row in rows:
        for period in PERIODS:
            not_run = _waits_for(row, period, as_of)
            if not_run is None and (row.hypothesis_id, period) in already_run:
                not_run = "already run on this extract"
            result = {"name": row.name, "period": period, "not_run": not_run}
            if not_run is None:
                try:
                    n1_x1 = _count(engine, workspace, row, period, json.loads(row.cohort))
                    n2_x2 = _count(engine, workspace, row, period, json.loads(row.comparison))
                except QueryError as exc:  # a table the outcome needs is absent, or a cohort value is unknown
                    done.append(result | {"not_run": str(exc)})
                    continue
                effect = difference_in_proportions(n1_x1[1], n1_x1[0], n2_x2[1], n2_x2[0])
                result |= {
                    "hypothesis_id": row.hypothesis_id, "children": n1_x1[0], "with_outcome": n1_x1[1],
                    "comparison_children": n2_x2[0], "comparison_with_outcome": n2_x2[1], **effect._asdict(),
                    "as_of": as_of, "extract_signature": signature, "run_at": run_at,
                }  # fmt: skip
                with workspace.begin() as connection:
                    connection.execute(
                        insert(hypothesis_results).values(
                            **{k: v for k, v in result.items() if k not in ("name", "not_run")}
                        )
                    )
            done.append(result)
    return done


RESULT_COLUMNS = ["period", "children", "with_outcome", "comparison_children", "comparison_with_outcome",
                  "effect", "ci_low", "ci_high", "p", "as_of", "extract_signature", "run_at"]  # fmt: skip
RESULT_TYPES = {"period": pl.String, "effect": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                "p": pl.Float64, "as_of": pl.Date, "extract_signature": pl.String, "run_at": pl.Datetime}  # fmt: skip


def _results_frame(rows) -> pl.DataFrame:
    schema = {c: RESULT_TYPES.get(c, pl.Int64) for c in RESULT_COLUMNS}
    return pl.DataFrame([tuple(getattr(r, c) for c in RESULT_COLUMNS) for r in rows], schema=schema, orient="row")


def result_history(workspace: Engine, name: str) -> pl.DataFrame:
    """Every result of the hypothesis, oldest first."""
    with workspace.connect() as connection:
        row = _find(connection, name)
        rows = connection.execute(
            select(hypothesis_results)
            .where(hypothesis_results.c.hypothesis_id == row.hypothesis_id)
            .order_by(hypothesis_results.c.result_id)
        ).all()
    return _results_frame(rows)


def latest_results(history: pl.DataFrame) -> pl.DataFrame:
    """The latest result of each period (discovery first) from a result history."""
    latest = history.with_row_index("order").group_by("period").agg(pl.all().sort_by("order").last())
    order = {p: i for i, p in enumerate(PERIODS)}
    return latest.sort(pl.col("period").replace_strict(order, return_dtype=pl.Int64)).drop("order")


def describe_outcome(row) -> str:
    """The hypothesis's outcome in words."""
    return _words(row)


def hypothesis_details(workspace: Engine, name: str) -> dict:
    """The hypothesis as written: name, statement, cohorts, outcome, periods, status, note, who and when."""
    with workspace.connect() as connection:
        row = _find(connection, name)
    return {
        "name": row.name, "statement": row.statement, "cohort": json.loads(row.cohort),
        "comparison": json.loads(row.comparison), "outcome": describe_outcome(row),
        "discovery": f"{row.discovery_from}..{row.discovery_to}",
        "confirmation": f"{row.confirmation_from}..{row.confirmation_to}",
        "status": row.status, "note": row.note, "created_by": row.created_by, "created_at": row.created_at,
    }  # fmt: skip


def list_hypotheses(workspace: Engine) -> pl.DataFrame:
    """Every hypothesis with its status and the latest effect and p of each period (null: not run yet)."""
    with workspace.connect() as connection:
        rows = connection.execute(select(hypotheses).order_by(hypotheses.c.hypothesis_id)).all()
        results = connection.execute(select(hypothesis_results).order_by(hypothesis_results.c.result_id)).all()
    latest = {(r.hypothesis_id, r.period): r for r in results}  # later rows replace earlier ones
    records = []
    for row in rows:
        record = {"name": row.name, "outcome": describe_outcome(row), "status": row.status}
        for period in PERIODS:
            found = latest.get((row.hypothesis_id, period))
            record[f"{period}_effect"] = found.effect if found else None
            record[f"{period}_p"] = found.p if found else None
        record["results"] = sum(r.hypothesis_id == row.hypothesis_id for r in results)
        records.append(record)
    schema = {"name": pl.String, "outcome": pl.String, "status": pl.String}
    schema |= {f"{p}_{k}": pl.Float64 for p in PERIODS for k in ("effect", "p")} | {"results": pl.Int64}
    return pl.DataFrame(records, schema=schema, orient="row")

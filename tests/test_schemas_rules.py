"""One test per validation rule: a tiny good frame passes it, a tiny bad one fails it.

Row rules run through Pandera on in-memory frames; cross-table rules run their SQL in DuckDB over
the tiny tables. Coverage tests make sure every registered rule has a case here.
"""

from __future__ import annotations

import datetime as dt
import functools

import duckdb
import polars as pl
import pytest

from schemas.codes import codes, labels, retired
from schemas.contract import TABLES
from schemas.rules import cross_rules as cr
from schemas.rules.base import ERROR, WARNING, RuleContext
from schemas.rules.row_rules import CODE_LISTS, DATE_ORDER, ROW_RULES, SSDA903_LISTS
from schemas.rules.table_schema import check_rows
from tiny_extract import AS_OF, tiny_tables

CTX = RuleContext(AS_OF, frozenset({"LA01", "LA02"}))
TINY = tiny_tables()


def set_first(frame: pl.DataFrame, column: str, value) -> pl.DataFrame:
    """The frame with the first row's `column` set to `value` (keeping the column's dtype)."""
    first = pl.int_range(pl.len()) == 0
    new = pl.lit(value, dtype=frame.schema[column])
    return frame.with_columns(pl.when(first).then(new).otherwise(pl.col(column)).alias(column))


def failures_of(table: str, frame: pl.DataFrame, column: str, check: str):
    failures = good_failures(table) if frame is TINY[table] else check_rows(table, frame, CTX)
    return [f for f in failures if f.column == column and check in f.check]


@functools.cache
def good_failures(table: str):
    return check_rows(table, TINY[table], CTX)


# --- Row rules: (table, column, value for the first row, words of the check, severity) ------

CODE_CASES = [(t, c, "ZZZ", "must be one of", ERROR) for (t, c) in CODE_LISTS]
RANGE_CASES = [
    ("workers", "fte", 0.0, "more than 0 and at most 1", ERROR),
    ("workers", "fte", 1.5, "more than 0 and at most 1", ERROR),
    ("education", "attendance_pct", 100.5, "between 0 and 100", ERROR),
    ("education", "attendance_pct", -1.0, "between 0 and 100", ERROR),
    ("education", "suspensions", -1, "must not be negative", ERROR),
    ("looked_after", "weekly_cost", -0.01, "must not be negative", ERROR),
    ("services", "unit_cost", -5.0, "must not be negative", ERROR),
    ("service_episodes", "cost", -1.0, "must not be negative", ERROR),
    ("worker_absence", "absence_days", -0.5, "must not be negative", ERROR),
    ("worker_absence", "contracted_days", 0.0, "must be more than 0", ERROR),
    ("worker_absence", "month", dt.date(2026, 1, 15), "1st of a month", ERROR),
]
FACTOR_CASES = [
    ("factors", "factor_code", "ZZ9", "a local code declared in factor_codes", ERROR),
    ("factors", "factor_code", "LA99", "a local code declared in factor_codes", ERROR),
    ("factors", "factor_code", "18A", "retired CIN code", WARNING),
    ("factors", "factor_code", "19A", "retired CIN code", WARNING),
    ("factors", "factor_code", "8A", "not a valid CIN factor code", ERROR),
    ("factor_codes", "factor_code", "3B", "must not clash with a CIN factor code", ERROR),
    ("factor_codes", "factor_code", "18A", "must not clash with a CIN factor code", ERROR),
]
SSDA903_CASES = [
    ("looked_after", "legal_status", "C3", "must be an SSDA903 legal status code", ERROR),
    ("looked_after", "placement_type", "U7", "must be an SSDA903 placement type code", ERROR),
    ("looked_after", "placement_type", "Q1", "retired SSDA903 placement type code", WARNING),
]
VALUE_CASES = CODE_CASES + RANGE_CASES + FACTOR_CASES + SSDA903_CASES


@pytest.mark.parametrize(("table", "column", "bad", "check", "severity"), VALUE_CASES, ids=lambda v: str(v)[:40])
def test_value_rule(table, column, bad, check, severity):
    assert failures_of(table, TINY[table], column, check) == []
    [failure] = failures_of(table, set_first(TINY[table], column, bad), column, check)
    assert (failure.severity, failure.count) == (severity, 1)
    assert failure.examples[0][column] == (bad.isoformat() if isinstance(bad, dt.date) else bad)
    for key in TABLES[table].key:
        assert key in failure.examples[0]


@pytest.mark.parametrize(("table", "later", "earlier"), DATE_ORDER)
def test_date_order_rule(table, later, earlier):
    frame = TINY[table].filter(pl.col(earlier).is_not_null())
    assert failures_of(table, frame, later, f"on or after {earlier}") == []
    bad = set_first(frame, later, frame[earlier][0] - dt.timedelta(days=1))
    [failure] = failures_of(table, bad, later, f"on or after {earlier}")
    assert failure.count == 1 and {later, earlier} <= set(failure.examples[0])


@pytest.mark.parametrize(
    ("column", "value"), [("closure_reason", None), ("closure_reason", "RC2")], ids=["date-no-reason", "reason-no-date"]
)
def test_closure_reason_exactly_when_closure_date(column, value):
    check = "present exactly when closure_date is present"
    referrals = TINY["referrals"]
    assert failures_of("referrals", referrals, "closure_reason", check) == []
    row = 0 if value is None else 1  # R1 is closed with RC1, R2 is open
    bad = referrals.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, pl.String)).otherwise(pl.col(column)).alias(column)
    )
    [failure] = failures_of("referrals", bad, "closure_reason", check)
    assert failure.count == 1


def test_local_factor_code_needs_declaring():
    factors = TINY["factors"]
    assert failures_of("factors", factors, "factor_code", "declared in factor_codes") == []
    undeclared = check_rows("factors", factors, RuleContext(AS_OF, frozenset()))
    assert [(f.column, f.count, f.examples[0]["factor_code"]) for f in undeclared] == [("factor_code", 1, "LA01")]


@pytest.mark.parametrize(("column", "list_name"), [(c, n) for c, (n, _) in SSDA903_LISTS.items()])
def test_ssda903_codes_current_pass_retired_only_warn(column, list_name):
    """Every current 903 code passes; a retired one is a warning, never also an error; all have words."""
    frame = TINY["looked_after"]
    current, old = codes(list_name), retired(list_name)
    every = pl.concat([set_first(frame.head(1), column, c) for c in current + old])
    failures = [f for f in check_rows("looked_after", every, CTX) if f.column == column]
    assert [(f.severity, f.count) for f in failures] == ([(WARNING, len(old))] if old else [])
    assert set(current) | set(old) <= set(labels(column))


def _columns(table: str, want) -> list[str]:
    return [c.name for c in TABLES[table].columns if want(c)]


@pytest.mark.parametrize("table", list(TABLES))
def test_not_null(table):
    """Every non-nullable column: a missing value in the first row is one failure of that column."""
    columns = _columns(table, lambda c: not c.nullable)
    assert [f for f in good_failures(table) if f.check == "must not be missing"] == []
    bad = TINY[table]
    for column in columns:
        bad = set_first(bad, column, None)
    failures = [f for f in check_rows(table, bad, CTX) if f.check == "must not be missing"]
    assert sorted((f.column, f.count) for f in failures) == sorted((c, 1) for c in columns)


@pytest.mark.parametrize(
    "table", [t for t in TABLES if _columns(t, lambda c: c.type == "str" and c.name.endswith("_id"))]
)
def test_identifier_not_float_looking(table):
    """Every identifier column: '1234.0' (an ID that went through a float) is flagged."""
    columns = _columns(table, lambda c: c.type == "str" and c.name.endswith("_id"))
    check = "must not look like a float"
    bad = TINY[table]
    for column in columns:
        bad = set_first(bad, column, "1234.0")
    bad = bad.vstack(set_first(TINY[table].head(1), columns[0], "1.2e+03"))
    failures = sorted((f.column, f.count) for f in check_rows(table, bad, CTX) if check in f.check)
    assert failures == sorted((c, 2 if c == columns[0] else 1) for c in columns)
    assert [f for f in good_failures(table) if check in f.check] == []


SINGLE_KEYS = [(s.name, s.key[0]) for s in TABLES.values() if len(s.key) == 1]


@pytest.mark.parametrize(("table", "key"), SINGLE_KEYS)
def test_unique_key(table, key):
    frame = TINY[table]
    assert failures_of(table, frame, key, "must be unique") == []
    [failure] = failures_of(table, pl.concat([frame, frame.head(1)]), key, "must be unique")
    assert failure.count == 2 and failure.examples[0][key] == frame[key][0]


@pytest.mark.parametrize("table", ["factors", "education"])
def test_composite_key_unique(table):
    key = "+".join(TABLES[table].key)
    frame = TINY[table]
    assert failures_of(table, frame, key, "unique together") == []
    [failure] = failures_of(table, pl.concat([frame, frame.head(1)]), key, "unique together")
    assert failure.count == 2


def test_composite_key_treats_missing_referral_as_a_value():
    factors = TINY["factors"].filter(pl.col("referral_id").is_null())
    [failure] = failures_of("factors", pl.concat([factors, factors]), "child_id+referral_id+factor_code+source", "")
    assert failure.count == 2


def test_tiny_tables_pass_every_row_rule():
    for table, frame in TINY.items():
        assert check_rows(table, frame, CTX) == [], table


def test_every_row_rule_has_a_case():
    tested = {(t, c, check) for (t, c, _, check, _) in VALUE_CASES}
    tested |= {(s.name, c.name, "must not look like a float") for s in TABLES.values() for c in s.columns}
    tested |= {(t, later, f"on or after {earlier}") for (t, later, earlier) in DATE_ORDER}
    tested.add(("referrals", "closure_reason", "present exactly when closure_date is present"))
    untested = [
        r.name for r in ROW_RULES if not any(t == r.table and c == r.column and w in r.check for t, c, w in tested)
    ]
    assert untested == []


def test_data_checks_run_even_if_pandera_defaults_to_schema_only():
    from pandera.config import ValidationDepth, config_context

    bad = set_first(TINY["children"], "sex", "X")
    with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
        assert failures_of("children", bad, "sex", "must be one of")


# --- Cross-table rules ----------------------------------------------------------------------


CON = duckdb.connect()  # one connection for every cross-rule test: connecting is the slow part


def run_cross(rule: cr.CrossRule, tables: dict[str, pl.DataFrame]):
    for name in rule.needs:
        CON.register(name, tables[name])
    try:
        return cr.run_cross_rule(CON, rule, CTX)
    finally:
        for name in rule.needs:
            CON.unregister(name)


def _edit(table: str, column: str, value) -> dict[str, pl.DataFrame]:
    tables = dict(TINY)
    tables[table] = set_first(tables[table], column, value)
    return tables


BAD_EXTRACTS = {
    cr.ASSESSMENT_CHILD_IS_REFERRAL_CHILD.sql: lambda: _edit("assessments", "child_id", "C2"),
    cr.ASSESSMENT_AFTER_REFERRAL.sql: lambda: _edit("assessments", "start_date", dt.date(2025, 4, 1)),
    cr.REVIEW_AFTER_PLAN_START.sql: lambda: _edit("cp_reviews", "review_date", dt.date(2025, 6, 1)),
    cr.BIRTH_DATE_NOT_TOO_LATE.sql: lambda: _edit("children", "birth_date", AS_OF + dt.timedelta(days=281)),
}
for _rule in cr.foreign_key_rules():
    BAD_EXTRACTS[_rule.sql] = lambda r=_rule: _edit(r.table, r.column, "NOPE")
for _rule in cr.not_after_as_of_rules():
    BAD_EXTRACTS[_rule.sql] = lambda r=_rule: _edit(r.table, r.column, AS_OF + dt.timedelta(days=1))
for _rule in cr.not_before_conception_rules():
    BAD_EXTRACTS[_rule.sql] = lambda r=_rule: _edit(r.table, r.column, dt.date(1990, 1, 1))


@pytest.mark.parametrize("rule", cr.cross_rules(), ids=lambda r: f"{r.table}.{r.column}:{r.check[:30]}")
def test_cross_rule(rule):
    assert run_cross(rule, TINY) is None
    failure = run_cross(rule, BAD_EXTRACTS[rule.sql]())
    assert failure is not None and failure.count == 1
    assert (failure.table, failure.column, failure.severity) == (rule.table, rule.column, ERROR)
    assert len(failure.examples) == 1 and rule.column in failure.examples[0]


def test_unborn_child_within_280_days_is_fine():
    tables = _edit("children", "birth_date", AS_OF + dt.timedelta(days=280))
    assert run_cross(cr.BIRTH_DATE_NOT_TOO_LATE, tables) is None


def test_event_280_days_before_birth_is_fine():
    rule = next(r for r in cr.not_before_conception_rules() if r.table == "referrals" and r.column == "referral_date")
    birth = TINY["children"]["birth_date"][0]  # C1, the child of R1
    assert run_cross(rule, _edit("referrals", "referral_date", birth - dt.timedelta(days=280))) is None
    assert run_cross(rule, _edit("referrals", "referral_date", birth - dt.timedelta(days=281))).count == 1


def test_cross_rule_counts_every_row_but_shows_five():
    tables = dict(TINY)
    tables["visits"] = TINY["visits"].with_columns(child_id=pl.lit("NOPE"))
    rule = next(r for r in cr.foreign_key_rules() if r.table == "visits" and r.column == "child_id")
    failure = run_cross(rule, tables)
    assert failure.count == 6 and len(failure.examples) == 5

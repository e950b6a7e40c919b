"""Checks across tables and against as_of, each a DuckDB SQL query over the Parquet.

A rule is a query returning the offending rows (key columns and the offending values). Each
table is visible to the queries as a view of the same name over its Parquet file(s). A rule
runs only when every table it reads is usable; otherwise the validator notes it was skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from schemas.contract import TABLES
from schemas.rules.base import ERROR, MAX_EXAMPLES, Failure, RuleContext, example_row

UNBORN_DAYS = 280  # an unborn child's expected birth date, or an event before conception


@dataclass(frozen=True)
class CrossRule:
    """One check whose failures are reported on `table`."""

    table: str
    column: str  # the column reported, or the rule's name
    check: str
    needs: tuple[str, ...]  # every table the query reads (the first is `table`)
    sql: str  # may use {as_of} (a DATE literal) and {unborn_days}
    severity: str = ERROR

    def query(self, ctx: RuleContext) -> str:
        """The rule's SQL with the context filled in."""
        return self.sql.format(as_of=f"DATE '{ctx.as_of.isoformat()}'", unborn_days=UNBORN_DAYS)


def _keys(table: str, alias: str = "t", *extra: str) -> str:
    spec = TABLES[table]
    cols = list(spec.key) if spec.key else spec.column_names
    cols += [c for c in extra if c not in cols]
    return ", ".join(f"{alias}.{c}" for c in cols)


def foreign_key_rules() -> list[CrossRule]:
    """Every foreign key in the contract resolves (a missing value is not checked here)."""
    rules = []
    for spec in TABLES.values():
        for column, ref_table, ref_column in spec.foreign_keys:
            sql = (
                f"SELECT {_keys(spec.name, 't', column)} FROM {spec.name} t "
                f"WHERE t.{column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {ref_table} r WHERE r.{ref_column} = t.{column})"
            )
            check = f"must match a {ref_column} in {ref_table}"
            rules.append(CrossRule(spec.name, column, check, (spec.name, ref_table), sql))
    return rules


def event_date_columns() -> list[tuple[str, str]]:
    """(table, column) for every date column except birth_date."""
    return [
        (spec.name, c.name)
        for spec in TABLES.values()
        for c in spec.columns
        if c.type == "date" and c.name != "birth_date"
    ]


def not_after_as_of_rules() -> list[CrossRule]:
    """No event is dated after as_of."""
    return [
        CrossRule(
            table,
            column,
            "must not be after the extract's as_of date",
            (table,),
            f"SELECT {_keys(table, 't', column)} FROM {table} t WHERE t.{column} > {{as_of}}",
        )
        for table, column in event_date_columns()
    ]


def not_before_conception_rules() -> list[CrossRule]:
    """No event of a child is dated before the child's birth_date minus 280 days."""
    rules = []
    for table, column in event_date_columns():
        if "child_id" not in TABLES[table].column_names:
            continue
        sql = (
            f"SELECT {_keys(table, 't', 'child_id', column)}, c.birth_date FROM {table} t "
            f"JOIN children c ON c.child_id = t.child_id "
            f"WHERE t.{column} < c.birth_date - INTERVAL {{unborn_days}} DAY"
        )
        check = "must not be more than 280 days before the child's birth_date"
        rules.append(CrossRule(table, column, check, (table, "children"), sql))
    return rules


BIRTH_DATE_NOT_TOO_LATE = CrossRule(
    "children",
    "birth_date",
    "must not be more than 280 days after as_of (an unborn child's expected date)",
    ("children",),
    "SELECT t.child_id, t.birth_date FROM children t WHERE t.birth_date > {as_of} + INTERVAL {unborn_days} DAY",
)

ASSESSMENT_CHILD_IS_REFERRAL_CHILD = CrossRule(
    "assessments",
    "child_id",
    "must equal the child_id of its referral",
    ("assessments", "referrals"),
    "SELECT t.assessment_id, t.referral_id, t.child_id, r.child_id AS referral_child_id "
    "FROM assessments t JOIN referrals r ON r.referral_id = t.referral_id "
    "WHERE t.child_id <> r.child_id",
)

ASSESSMENT_AFTER_REFERRAL = CrossRule(
    "assessments",
    "start_date",
    "must be on or after its referral's referral_date",
    ("assessments", "referrals"),
    "SELECT t.assessment_id, t.referral_id, t.start_date, r.referral_date "
    "FROM assessments t JOIN referrals r ON r.referral_id = t.referral_id "
    "WHERE t.start_date < r.referral_date",
)

REVIEW_AFTER_PLAN_START = CrossRule(
    "cp_reviews",
    "review_date",
    "must be on or after its plan's start_date",
    ("cp_reviews", "cp_plans"),
    "SELECT t.plan_id, t.review_date, p.start_date AS plan_start_date "
    "FROM cp_reviews t JOIN cp_plans p ON p.plan_id = t.plan_id "
    "WHERE t.review_date < p.start_date",
)


def cross_rules() -> list[CrossRule]:
    """Every cross-table rule, in the order they are reported."""
    return [
        *foreign_key_rules(),
        ASSESSMENT_CHILD_IS_REFERRAL_CHILD,
        ASSESSMENT_AFTER_REFERRAL,
        REVIEW_AFTER_PLAN_START,
        BIRTH_DATE_NOT_TOO_LATE,
        *not_after_as_of_rules(),
        *not_before_conception_rules(),
    ]


def run_cross_rule(con: duckdb.DuckDBPyConnection, rule: CrossRule, ctx: RuleContext) -> Failure | None:
    """Run one rule on a connection where its tables are views; None when no row fails."""
    sql = f"SELECT *, count(*) OVER () AS __count FROM ({rule.query(ctx)}) LIMIT {MAX_EXAMPLES}"
    result = con.sql(sql)
    names, rows = result.columns, result.fetchall()
    if not rows:
        return None
    examples = [example_row(dict(zip(names[:-1], row[:-1], strict=True))) for row in rows]
    return Failure(rule.table, rule.column, rule.check, rule.severity, rows[0][-1], examples)

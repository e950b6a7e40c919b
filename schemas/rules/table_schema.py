"""Per-table Pandera schemas (polars backend), generated from schemas/contract.py and the row rules.

Types are checked beforehand from the Parquet metadata (rules/structure.py), so the schemas
here only see columns of the right type and check the data: not null, unique keys (single or
composite) and every registered row rule. Validation is lazy (all failures collected) and
always at depth SCHEMA_AND_DATA: Pandera skips data checks on a LazyFrame otherwise.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from schemas.contract import TABLES
from schemas.rules.base import ERROR, MAX_EXAMPLES, Failure, RuleContext, example_columns, example_row
from schemas.rules.row_rules import RowRule, rules_for

BUILT_IN_CHECKS = {
    "not_nullable": "must not be missing",
    "field_uniqueness": "must be unique",
    "multiple_fields_uniqueness": "must be unique together",
}


def table_schema(table: str, columns: list[str], ctx: RuleContext) -> tuple[pa.DataFrameSchema, list[RowRule]]:
    """The Pandera schema of `table` over the given (structurally sound) columns, and its rules."""
    spec = TABLES[table]
    single_key = spec.key[0] if len(spec.key) == 1 else None
    schema_columns = {
        c.name: pa.Column(None, nullable=c.nullable, unique=c.name == single_key)
        for c in spec.columns
        if c.name in columns
    }
    rules = [r for r in rules_for(table) if set(r.columns) <= set(columns)]
    checks = [pa.Check(_as_check(rule, ctx), name=rule.name, ignore_na=False) for rule in rules]
    composite = list(spec.key) if len(spec.key) > 1 and set(spec.key) <= set(columns) else None
    return pa.DataFrameSchema(schema_columns, checks=checks, unique=composite, name=table), rules


def _as_check(rule: RowRule, ctx: RuleContext):
    expr = rule.expr(ctx)
    return lambda data: data.lazyframe.select(expr)


def check_rows(table: str, frame: pl.DataFrame, ctx: RuleContext) -> list[Failure]:
    """Every row-level failure of one table's frame, one Failure per column and check."""
    schema, rules = table_schema(table, frame.columns, ctx)
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _failures(table, frame, exc.failure_cases, {r.name: r for r in rules})
    return []


def _failures(table: str, frame: pl.DataFrame, cases: pl.DataFrame, rules: dict[str, RowRule]) -> list[Failure]:
    failures = []
    key = list(TABLES[table].key)
    for (column, check), group in cases.group_by(["column", "check"], maintain_order=True):
        rule = rules.get(check)
        if rule is not None:
            column, text, severity, shown = rule.column, rule.check, rule.severity, rule.columns
        elif check == "multiple_fields_uniqueness":
            column, text, severity, shown = "+".join(key), BUILT_IN_CHECKS[check], ERROR, tuple(key)
        else:
            text, severity, shown = BUILT_IN_CHECKS.get(check, str(check)), ERROR, (column,)
        rows = group["index"].drop_nulls().unique(maintain_order=True)
        count = rows.len() if rows.len() else group.height
        examples = [
            example_row(r)
            for r in frame[rows.head(MAX_EXAMPLES).to_list()]
            .select([c for c in example_columns(table, *shown) if c in frame.columns])
            .to_dicts()
        ]
        failures.append(Failure(table, str(column), text, severity, count, examples))
    return failures

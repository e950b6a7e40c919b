"""Per-table Pandera schemas (polars backend), generated from schemas/contract.py and the row rules.

Types are checked beforehand from the Parquet metadata (rules/structure.py), so the schemas
here only see columns of the right type and check the data: not null, unique keys (single or
composite) and every registered row rule. Validation is lazy (all failures collected) and
always at depth SCHEMA_AND_DATA: Pandera skips data checks on a LazyFrame otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def table_schema(
    table: str, columns: list[str], ctx: RuleContext, unique: bool = True
) -> tuple[pa.DataFrameSchema, list[RowRule]]:
    """The Pandera schema of `table` over the given (structurally sound) columns, and its rules.

    `unique=False` leaves out the key checks, which need every row at once (see `key_checks`).
    """
    spec = TABLES[table]
    single_key = spec.key[0] if len(spec.key) == 1 and unique else None
    schema_columns = {
        c.name: pa.Column(None, nullable=c.nullable, unique=c.name == single_key)
        for c in spec.columns
        if c.name in columns
    }
    rules = [r for r in rules_for(table) if set(r.columns) <= set(columns)]
    checks = [pa.Check(_as_check(rule, ctx), name=rule.name, ignore_na=False) for rule in rules]
    composite = list(spec.key) if len(spec.key) > 1 and set(spec.key) <= set(columns) and unique else None
    return pa.DataFrameSchema(schema_columns, checks=checks, unique=composite, name=table), rules


@dataclass(frozen=True)
class KeyCheck:
    """A unique-key check on some of a table's columns, reported as Pandera's built-in check was."""

    column: str  # the column, or "a+b" for a composite key
    check: str  # BUILT_IN_CHECKS text
    key: tuple[str, ...]  # the key's columns


def key_checks(table: str, columns: list[str]) -> list[KeyCheck]:
    """The unique-key checks `table_schema` makes on these columns (single or composite key)."""
    key = TABLES[table].key
    if len(key) == 1 and key[0] in columns:
        return [KeyCheck(key[0], BUILT_IN_CHECKS["field_uniqueness"], key)]
    if len(key) > 1 and set(key) <= set(columns):
        return [KeyCheck("+".join(key), BUILT_IN_CHECKS["multiple_fields_uniqueness"], key)]
    return []


def report_order(table: str, columns: list[str], rules: list[RowRule]) -> list[tuple[str, str]]:
    """(column, check) of every check in the order Pandera reports them for one frame.

    Pandera runs the composite key first, then each column in contract order (not null, then
    unique), then the rules in the order they were registered.
    """
    order = [(k.column, k.check) for k in key_checks(table, columns) if len(k.key) > 1]
    for c in TABLES[table].columns:
        if c.name in columns:
            order += [(c.name, BUILT_IN_CHECKS["not_nullable"]), (c.name, BUILT_IN_CHECKS["field_uniqueness"])]
    return order + [(r.column, r.check) for r in rules]


class BatchChecker:
    """One table's Pandera checks run on its rows a batch at a time, the failures merged.

    Counts add up and the first MAX_EXAMPLES examples in row order are kept, so the result is
    what `check_rows` gives on the whole table, except the unique-key checks, which need every
    row at once: the caller checks those over the whole table and passes them to `failures`.
    """

    def __init__(self, table: str, columns: list[str], ctx: RuleContext):
        self.table, self.columns = table, list(columns)
        self.schema, rules = table_schema(table, self.columns, ctx, unique=False)
        self.rules = {r.name: r for r in rules}
        self.order = report_order(table, self.columns, rules)
        self._merged: dict[tuple[str, str], Failure] = {}
        self._counted: set[tuple[str, str]] = set()  # failures counted by rows (the rest are counted once)

    def check(self, frame: pl.DataFrame) -> None:
        """Run every check on one batch of rows and merge its failures."""
        for failure, by_rows in _validate(self.table, self.schema, frame, self.rules):
            ident = (failure.column, failure.check)
            seen = self._merged.get(ident)
            if seen is None:
                self._merged[ident] = failure
                if by_rows:
                    self._counted.add(ident)
            elif by_rows and ident in self._counted:
                seen.count += failure.count
                seen.examples += failure.examples[: MAX_EXAMPLES - len(seen.examples)]

    def failures(self, key_failures: list[Failure] = ()) -> list[Failure]:
        """The merged failures, with the unique-key ones, in the order `check_rows` reports them."""
        found = list(self._merged.values()) + list(key_failures)
        rank = {ident: i for i, ident in enumerate(self.order)}
        return sorted(found, key=lambda f: rank.get((f.column, f.check), len(rank)))


def _as_check(rule: RowRule, ctx: RuleContext):
    expr = rule.expr(ctx)
    return lambda data: data.lazyframe.select(expr)


def check_rows(table: str, frame: pl.DataFrame, ctx: RuleContext) -> list[Failure]:
    """Every row-level failure of one table's frame, one Failure per column and check."""
    schema, rules = table_schema(table, frame.columns, ctx)
    return [f for f, _ in _validate(table, schema, frame, {r.name: r for r in rules})]


def _validate(
    table: str, schema: pa.DataFrameSchema, frame: pl.DataFrame, rules: dict[str, RowRule]
) -> list[tuple[Failure, bool]]:
    """(failure, counted by rows) for each failed check of `schema` on `frame`."""
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _failures(table, frame, exc.failure_cases, rules)
    return []


def _failures(
    table: str, frame: pl.DataFrame, cases: pl.DataFrame, rules: dict[str, RowRule]
) -> list[tuple[Failure, bool]]:
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
        failures.append((Failure(table, str(column), text, severity, count, examples), bool(rows.len())))
    return failures

"""Collecting contract rows during an import, and turning them into typed polars frames.

`Cell` reads one source row's values for one contract table, recording every value it does
not understand in the report. `Tables` collects the mapped rows, keeps one row per key (a
child met in several lists is merged, field by field) and builds frames with the contract's
dtypes: IDs String, dates Date, flags Boolean, money Float64.
"""

from __future__ import annotations

import polars as pl

from ingest import values
from ingest.report import RunReport
from schemas.contract import TABLES

IMPORTED_FROM = "imported_from"  # extra column: which source (format and date) a row came from
DTYPES = {"str": pl.String, "date": pl.Date, "bool": pl.Boolean, "float": pl.Float64, "int": pl.Int64}
KEYLESS_KEYS = {"cp_reviews": ("plan_id", "review_date"), "neet_status": ("child_id", "recorded_date", "status")}


def table_key(table: str) -> tuple[str, ...]:
    """The columns that identify a row of `table` (the contract key, or all of a key-less table's few)."""
    return TABLES[table].key or KEYLESS_KEYS.get(table, tuple(TABLES[table].column_names))


class Cell:
    """Reads the values of one source row for one table; `failed` says why the row cannot be used."""

    def __init__(self, report: RunReport, table: str, where: str):
        self.report, self.table, self.where = report, table, where
        self.failed: str | None = None

    def _fail(self, reason: str) -> None:
        self.failed = self.failed or reason

    def ident(self, value, column: str, required: bool = True) -> str | None:
        try:
            out = values.ident(value)
        except values.NotUnderstood as exc:
            self.report.problem(self.table, self.where, column, "(identifier)", str(exc))
            out = None
        if out is None and required:
            self._fail(f"no {column}")
        return out

    def text(self, value, column: str) -> str | None:
        if values.is_excel_error(value):
            self.report.problem(self.table, self.where, column, value, "an Excel error value: left empty")
        return values.text(value)

    def date(self, value, column: str, required: bool = False):
        try:
            out = values.date(value)
        except values.NotUnderstood as exc:
            issue = f"{exc}: " + ("row dropped" if required else "left empty")
            self.report.problem(self.table, self.where, column, value, issue)
            if required:
                self._fail(f"{column} could not be read")
            return None
        if values.is_excel_error(value):
            self.report.problem(self.table, self.where, column, value, "an Excel error value: left empty")
        if out is None and required:
            self._fail(f"no {column}")
        return out

    def yes_no(self, value, column: str) -> bool | None:
        try:
            return values.yes_no(value)
        except values.NotUnderstood as exc:
            self.report.problem(self.table, self.where, column, value, f"{exc}: left empty")
            return None

    def code(self, value, column: str, allowed, words=None, required: bool = False, accept=()) -> str | None:
        """A code of `allowed` (or of `accept`, e.g. retired codes kept for the validator to warn on).

        An unknown code in a required column is kept as written (validation then names it as the
        source's error); in a nullable column it is left empty. Both are reported.
        """
        try:
            out = values.code(value, [*allowed, *accept], words)
            if out is None and required:
                self.report.problem(
                    self.table, self.where, column, None, "missing: left empty (validation will say so)"
                )
            return out
        except values.NotUnderstood:
            if required:
                self.report.problem(self.table, self.where, column, value, "unknown code: kept as written")
                return values.raw_code(value)
            self.report.problem(self.table, self.where, column, value, "unknown code: left empty")
            return None


class Tables:
    """The contract rows made by one import, one list per table."""

    def __init__(self, report: RunReport, label: str):
        self.report, self.label = report, label
        self.rows: dict[str, dict[tuple, dict]] = {}

    def start(self, *tables: str) -> None:
        """Declare tables this source fills (written even when empty)."""
        for table in tables:
            self.rows.setdefault(table, {})
            self.report.count(table)

    def add(self, table: str, row: dict, where: str = "", merge: bool = False) -> bool:
        """Add a mapped row; a second row with the same key is merged (`merge`) or dropped."""
        rows = self.rows.setdefault(table, {})
        key = tuple(row.get(c) for c in table_key(table))
        row = {**row, IMPORTED_FROM: self.label}
        if key in rows:
            if merge:
                self.report.count(table).merged += 1
                old = rows[key]
                for column, value in row.items():
                    if old.get(column) is None and value is not None:
                        old[column] = value
                return True
            self.report.drop(table, "the same row (same key) twice in the source", where)
            return False
        rows[key] = row
        return True

    def has(self, table: str, **key) -> bool:
        return tuple(key.get(c) for c in table_key(table)) in self.rows.get(table, {})

    def get(self, table: str) -> list[dict]:
        return list(self.rows.get(table, {}).values())

    def frames(self) -> dict[str, pl.DataFrame]:
        """Typed frames of every table started or filled; counts the mapped rows in the report."""
        out = {}
        for table, rows in self.rows.items():
            out[table] = frame(table, list(rows.values()))
            self.report.count(table).mapped = out[table].height
        return out


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    """A frame with every contract column of `table` in its dtype, then any extra (string) columns."""
    spec = TABLES[table]
    schema = {c.name: DTYPES[c.type] for c in spec.columns}
    extras = sorted({k for r in rows for k in r} - set(schema))
    for extra in extras:
        schema[extra] = pl.String
    data = {name: [r.get(name) for r in rows] for name in schema}
    return pl.DataFrame(data, schema=schema)


def empty(table: str) -> pl.DataFrame:
    return frame(table, [])


class Imported:
    """What one source gave: typed frames of the tables it fills, and its reference details."""

    def __init__(self, label: str, frames: dict[str, pl.DataFrame], as_of=None, la_code=None, la_name=None):
        self.label, self.frames, self.as_of = label, frames, as_of
        self.la_code, self.la_name = la_code, la_name


def sex_of(cell: Cell, value, column: str = "sex") -> str | None:
    """A child's sex code; an unknown value is reported and becomes U (not known)."""
    try:
        return values.sex(value)
    except values.NotUnderstood:
        cell.report.problem(cell.table, cell.where, column, value, "unknown sex code: recorded as U (not known)")
        return "U"

"""Validate an extract against contract v1 and report every failure (`python -m schemas validate`).

    report = validate_path("sample_data")     # or validate_extract(open_extract(...))
    report.is_valid, report.table_status["referrals"], report.usable_tables
    print(report.to_text()); json.dumps(report.to_dict())

Three passes, each independent of a broken table elsewhere:
1. structure (rules/structure.py): each table readable, every contract column of the right type;
2. rows (rules/row_rules.py via Pandera): not null, unique keys, codes, ranges, date order;
3. across tables (rules/cross_rules.py via DuckDB SQL): foreign keys, dates against as_of and
   birth dates, assessment vs referral, review vs plan.
The extract is only ever read. Row-level errors leave a table usable (the app shows its pages
with a data-quality badge); only an unreadable file or a wrong structure makes it unusable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import duckdb

from schemas.contract import TABLES
from schemas.extract import Extract, open_extract
from schemas.rules.base import ERROR, WARNING, Failure, RuleContext
from schemas.rules.cross_rules import CrossRule, cross_rules, run_cross_rule
from schemas.rules.structure import TableShape, check_structure, unreadable
from schemas.rules.table_schema import check_rows

__all__ = ["Failure", "ValidationReport", "validate_extract", "validate_path", "TABLE_STATUSES"]

TABLE_STATUSES = ("ok", "warnings", "errors", "missing", "missing_required", "unreadable", "wrong_structure")
USABLE_STATUSES = ("ok", "warnings", "errors")


@dataclass
class ValidationReport:
    """Every failure found in one extract, and what each table's state means for the app."""

    path: str
    as_of: str  # ISO date the extract was judged on
    as_of_source: str  # "manifest" or "latest event date"
    table_status: dict[str, str]  # every contract table -> one of TABLE_STATUSES
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # skipped rules, ignored files

    @property
    def usable_tables(self) -> list[str]:
        """Tables present, readable and with every contract column of the right type."""
        return [t for t, s in self.table_status.items() if s in USABLE_STATUSES]

    @property
    def errors(self) -> list[Failure]:
        """The failures of severity error."""
        return [f for f in self.failures if f.severity == ERROR]

    @property
    def warnings(self) -> list[Failure]:
        """The failures of severity warning."""
        return [f for f in self.failures if f.severity == WARNING]

    @property
    def is_valid(self) -> bool:
        """True when nothing is an error (warnings allowed)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (round-trips through `from_dict`)."""
        return {
            "path": self.path,
            "as_of": self.as_of,
            "as_of_source": self.as_of_source,
            "is_valid": self.is_valid,
            "table_status": dict(self.table_status),
            "usable_tables": self.usable_tables,
            "failures": [f.to_dict() for f in self.failures],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """Rebuild a report from `to_dict()` output."""
        return cls(
            path=data["path"],
            as_of=data["as_of"],
            as_of_source=data["as_of_source"],
            table_status=dict(data["table_status"]),
            failures=[Failure(**f) for f in data["failures"]],
            notes=list(data["notes"]),
        )

    def to_text(self) -> str:
        """A readable report grouped by table, then column, then check, with counts and examples."""
        n_err, n_warn = len(self.errors), len(self.warnings)
        verdict = "VALID" if self.is_valid else "INVALID"
        lines = [
            f"Extract {self.path} (as_of {self.as_of}, from the {self.as_of_source})",
            f"{verdict}: {n_err} error check(s), {n_warn} warning check(s)",
            "",
            "Tables:",
        ]
        lines += [f"  {table:<18} {status}" for table, status in self.table_status.items()]
        for table in self.table_status:
            failures = [f for f in self.failures if f.table == table]
            if not failures:
                continue
            lines += ["", f"{table}"]
            for column in dict.fromkeys(f.column for f in failures):
                lines.append(f"  {column}")
                for f in (f for f in failures if f.column == column):
                    rows = "" if _is_structural(f) else f": {f.count} row{'s' if f.count != 1 else ''}"
                    lines.append(f"    {f.severity.upper():<7} {f.check}{rows}")
                    lines += [f"        e.g. {_example_text(e)}" for e in f.examples]
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)


def _is_structural(failure: Failure) -> bool:
    """A failure about the table or a column as a whole (its count is not a number of rows)."""
    return (
        failure.column.startswith("(")
        or failure.check == "required column is missing"
        or any("found_type" in e for e in failure.examples)
    )


def _example_text(example: dict[str, Any]) -> str:
    return ", ".join(f"{k}={'(missing)' if v is None else v}" for k, v in example.items())


def validate_path(path: str | os.PathLike | None = None) -> ValidationReport:
    """Open the extract at `path` (default: data_dir()) and validate it; ExtractError if unusable."""
    return validate_extract(open_extract(path))


def validate_extract(extract: Extract) -> ValidationReport:
    """Check every table of `extract` (structure, rows, across tables); never changes the extract."""
    con = duckdb.connect(":memory:")
    try:
        return _Validation(extract, con).run()
    finally:
        con.close()


class _Validation:
    """One validation run: the passes share the connection, the shapes and the failures."""

    def __init__(self, extract: Extract, con: duckdb.DuckDBPyConnection):
        self.extract, self.con = extract, con
        self.shapes: dict[str, TableShape] = {}
        self.failures: list[Failure] = []
        self.notes: list[str] = []

    def run(self) -> ValidationReport:
        for name, spec in TABLES.items():
            if name in self.extract.tables:
                self.shapes[name] = check_structure(self.con, self.extract.tables[name])
            elif spec.core:
                check = f"core table is missing: expected {name}.parquet or a folder {name}/"
                self.failures.append(Failure(name, "(table)", check, ERROR, 1, []))
        for shape in self.shapes.values():
            self.failures += shape.failures
        loaded = [name for name, shape in self.shapes.items() if shape.usable_columns and self._load(name, shape)]
        ctx = RuleContext(self.extract.as_of, self._local_factor_codes())
        for name in loaded:
            self._check_rows(name, ctx)
        self._check_across(ctx)
        if self.extract.unknown_files:
            self.notes.append(f"ignored files that are not contract tables: {', '.join(self.extract.unknown_files)}")
        return ValidationReport(
            path=str(self.extract.path),
            as_of=self.extract.as_of.isoformat(),
            as_of_source=self.extract.as_of_source,
            table_status=self._statuses(),
            failures=self.failures,
            notes=self.notes,
        )

    def _usable(self, name: str) -> bool:
        shape = self.shapes.get(name)
        return shape is not None and shape.structure_ok

    def _load(self, name: str, shape: TableShape) -> bool:
        """Copy the table's sound contract columns into DuckDB once; False if its pages are corrupt."""
        cols = ", ".join(f'"{c}"' for c in shape.usable_columns)
        try:
            self.con.execute(f'CREATE TABLE "{name}" AS SELECT {cols} FROM {self.extract.tables[name].read_sql()}')
        except (duckdb.Error, OSError) as exc:  # the metadata was readable, the data is not
            self.shapes[name] = unreadable(name, exc)
            self.failures = [f for f in self.failures if f.table != name] + self.shapes[name].failures
            return False
        return True

    def _local_factor_codes(self) -> frozenset[str]:
        if not self._usable("factor_codes"):
            if "factors" in self.shapes:
                self.notes.append("factor_codes is missing or unusable: every non-CIN factor code is an error")
            return frozenset()
        rows = self.con.sql("SELECT DISTINCT factor_code FROM factor_codes WHERE factor_code IS NOT NULL")
        return frozenset(r[0] for r in rows.fetchall())

    def _check_rows(self, name: str, ctx: RuleContext) -> None:
        try:
            self.failures += check_rows(name, self.con.table(f'"{name}"').pl(), ctx)
        except Exception as exc:  # noqa: BLE001 - a broken rule must not hide the other tables
            check = f"row checks could not run ({type(exc).__name__}: {exc})"
            self.failures.append(Failure(name, "(rules)", check, ERROR, 1, []))

    def _check_across(self, ctx: RuleContext) -> None:
        for rule in cross_rules():
            if not self._usable(rule.table):
                continue  # absent or unusable: its status already says so
            blocked = [t for t in rule.needs if not self._usable(t)]
            if blocked:
                self.notes.append(
                    f"skipped {rule.table}.{rule.column} '{rule.check}': "
                    f"needs {', '.join(blocked)}, which is missing or unusable"
                )
                continue
            self._run_cross_rule(rule, ctx)

    def _run_cross_rule(self, rule: CrossRule, ctx: RuleContext) -> None:
        try:
            failure = run_cross_rule(self.con, rule, ctx)
        except duckdb.Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            self.notes.append(f"could not run {rule.table}.{rule.column} '{rule.check}': {first_line}")
            return
        if failure is not None:
            self.failures.append(failure)

    def _statuses(self) -> dict[str, str]:
        statuses = {}
        for name, spec in TABLES.items():
            shape = self.shapes.get(name)
            severities = {f.severity for f in self.failures if f.table == name}
            if shape is None:
                statuses[name] = "missing_required" if spec.core else "missing"
            elif not shape.readable:
                statuses[name] = "unreadable"
            elif not shape.structure_ok:
                statuses[name] = "wrong_structure"
            else:
                statuses[name] = "errors" if ERROR in severities else "warnings" if severities else "ok"
        return statuses

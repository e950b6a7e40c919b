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

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from schemas.cache import (
    REPORT_PREFIX,
    cache_folder,
    extract_source,
    max_cache_bytes,
    private_folder,
    private_write,
    prune,
    tighten,
    touch,
)
from schemas.contract import TABLES
from schemas.extract import Extract, open_extract
from schemas.rules.base import ERROR, WARNING, Failure, RuleContext
from schemas.rules.cross_rules import CrossRule, cross_rules, run_cross_rule
from schemas.rules.keys import KeyHashes, key_failure
from schemas.rules.structure import TableShape, check_structure, unreadable
from schemas.rules.table_schema import BatchChecker, key_checks

__all__ = [
    "Failure",
    "ValidationReport",
    "validate_extract",
    "validate_path",
    "cached_report",
    "TABLE_STATUSES",
]

BATCH_ROWS = 500_000  # rows checked at a time: bounds the memory of the row checks
MEMORY_LIMIT = "1GB"  # DuckDB's share while validating (spilling to the cache folder allowed)
REPORT_FORMAT = 2  # bump when the cached report's JSON changes (2: the extract it came from, for pruning)
CACHE_MIN_BYTES = 8 * 1024 * 1024  # a smaller extract validates in about a second: no cache file
SCHEMAS_DIR = Path(__file__).resolve().parent

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


def validate_path(path: str | os.PathLike | None = None, *, cache: bool = False) -> ValidationReport:
    """Open the extract at `path` (default: data_dir()) and validate it; ExtractError if unusable."""
    return validate_extract(open_extract(path), cache=cache)


def validate_extract(extract: Extract, *, cache: bool = False, batch_rows: int = BATCH_ROWS) -> ValidationReport:
    """Check every table of `extract` (structure, rows, across tables); never changes the extract.

    cache=True: reuse the report saved for this version of the extract's files (and of the
    rules), or save it for next time (see `cached_report`).
    """
    if cache:
        return cached_report(extract, batch_rows=batch_rows)
    with tempfile.TemporaryDirectory(prefix="childstat-validate-") as spill:
        return _validate(extract, Path(spill), batch_rows)


def _validate(extract: Extract, spill: Path, batch_rows: int) -> ValidationReport:
    """One run with DuckDB's memory bounded, spilling to `spill` (never inside the extract)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
        con.execute("SET preserve_insertion_order = true")  # batches and examples in row order
        return _Validation(extract, con, batch_rows).run()
    finally:
        con.close()


# --- The report cache -------------------------------------------------------------------------


def cached_report(extract: Extract, *, batch_rows: int = BATCH_ROWS) -> ValidationReport:
    """The extract's report from the cache folder, validating (and saving) only when it is not there.

    The report is stored as JSON in the engine's cache folder ($CHILDSTAT_CACHE, else
    ~/.cache/childstat; never inside the extract), named by the extract folder and a hash of
    its files (paths, sizes, modification times, the manifest), the ignored files, and the
    validator's own code, rules and code lists; a change to any of them validates afresh. It
    holds child IDs and birth dates, so it is written 0600 (a temporary file renamed into place)
    in the 0700 folder (schemas/cache.py), with the extract it came from; reading or saving it
    prunes the folder (reports and databases of extracts gone or changed, then the least recently
    used beyond the max_cache_gb setting). An extract under CACHE_MIN_BYTES of Parquet, or one
    whose cache folder cannot be used, is simply validated afresh.
    """
    try:
        if extract.size_bytes() < CACHE_MIN_BYTES:
            return validate_extract(extract, batch_rows=batch_rows)
        path = report_cache_path(extract)
        private_folder(path.parent)  # 0700, tightened if it was not
    except (OSError, ValueError):
        return validate_extract(extract, batch_rows=batch_rows)
    if path.exists():
        try:
            tighten(path)
            report = ValidationReport.from_dict(json.loads(path.read_text(encoding="utf-8"))["report"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable or from an older format: validate again and overwrite it
        else:
            touch(path)  # used now: the size limit removes the least recently used first
            _prune(path)
            return report
    try:
        spill = private_folder(path.parent / "spill")  # as the engine's
    except OSError:
        return validate_extract(extract, batch_rows=batch_rows)
    report = _validate(extract, spill, batch_rows)
    with contextlib.suppress(OSError):
        _save_report(path, report, extract)
        _prune(path)
    return report


def report_cache_path(extract: Extract) -> Path:
    """Where the report of this version of the extract is cached; ValueError if inside the extract."""
    folder = cache_folder(extract)
    folder_key = hashlib.sha256(str(extract.path.resolve()).encode()).hexdigest()[:12]
    text = "|".join(
        [str(REPORT_FORMAT), _rules_version(), str(extract.path), extract.signature(), *extract.unknown_files]
    )
    return folder / f"{REPORT_PREFIX}{folder_key}-{hashlib.sha256(text.encode()).hexdigest()[:20]}.json"


def _save_report(path: Path, report: ValidationReport, extract: Extract) -> None:
    saved = {"format": REPORT_FORMAT, "source": extract_source(extract), "report": report.to_dict()}
    private_write(path, json.dumps(saved))  # 0600 from the start; atomic: a reader sees all of it or none
    folder_key = path.name.split("-")[1]
    for older in path.parent.glob(f"{REPORT_PREFIX}{folder_key}-*.json"):  # earlier versions of this extract
        if older != path:
            with contextlib.suppress(OSError):
                older.unlink(missing_ok=True)


def _prune(report: Path) -> None:
    """Prune the cache folder (schemas.cache.prune), keeping this report."""
    with contextlib.suppress(OSError):  # a folder that cannot be pruned still serves
        prune(report.parent, keep={report}, max_bytes=max_cache_bytes())


@functools.cache
def _rules_version() -> str:
    """A hash of everything a report depends on besides the extract: this code, the rules, the codes."""
    digest = hashlib.sha256()
    for version in (duckdb.__version__, pl.__version__, importlib.metadata.version("pandera")):
        digest.update(version.encode())
    for file in sorted([*SCHEMAS_DIR.glob("*.py"), *SCHEMAS_DIR.glob("*.toml"), *SCHEMAS_DIR.glob("rules/*.py")]):
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:20]


# --- One validation run -----------------------------------------------------------------------


class _Validation:
    """One validation run: the passes share the connection, the shapes and the failures.

    Tables are views over their Parquet (nothing is copied). Each table's rows are read once,
    in row order and `batch_rows` at a time, through its Pandera checks (rules/table_schema.py);
    unique keys are checked over the whole table (rules/keys.py). Meanwhile the cross-table
    rules run in DuckDB on a second thread; their results are used only for tables whose rows
    turned out readable, so the report is the same as checking one pass after the other.
    """

    def __init__(self, extract: Extract, con: duckdb.DuckDBPyConnection, batch_rows: int = BATCH_ROWS):
        self.extract, self.con, self.batch_rows = extract, con, batch_rows
        self.shapes: dict[str, TableShape] = {}
        self.missing: list[Failure] = []  # core tables not in the extract
        self.unloadable: dict[str, TableShape] = {}  # metadata readable, rows not
        self.row_failures: dict[str, list[Failure]] = {}
        self.notes: list[str] = []

    def run(self) -> ValidationReport:
        for name, spec in TABLES.items():
            if name in self.extract.tables:
                self.shapes[name] = check_structure(self.con, self.extract.tables[name])
            elif spec.core:
                check = f"core table is missing: expected {name}.parquet or a folder {name}/"
                self.missing.append(Failure(name, "(table)", check, ERROR, 1, []))
        loading = [name for name, shape in self.shapes.items() if shape.usable_columns]
        for name in loading:
            columns = ", ".join(f'"{c}"' for c in self.shapes[name].usable_columns)
            self.con.execute(f'CREATE VIEW "{name}" AS SELECT {columns} FROM {self.extract.tables[name].read_sql()}')
        if "factor_codes" in loading:  # read first: the factors rules need its codes
            self._read_all("factor_codes")
        ctx = RuleContext(self.extract.as_of, self._local_factor_codes())
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="childstat-cross-rules") as pool:
            planned = [(rule, pool.submit(self._try_cross_rule, rule, ctx)) for rule in self._runnable_cross_rules()]
            try:
                for name in loading:
                    if name not in self.unloadable:
                        self._check_rows(name, ctx)
                cross_results = {rule: future.result() for rule, future in planned}
            finally:
                for _, future in planned:
                    future.cancel()
        failures = self._structure_failures()
        for name in loading:
            failures += self.row_failures.get(name, [])
        failures += self._check_across(cross_results)
        if self.extract.unknown_files:
            self.notes.append(f"ignored files that are not contract tables: {', '.join(self.extract.unknown_files)}")
        return ValidationReport(
            path=str(self.extract.path),
            as_of=self.extract.as_of.isoformat(),
            as_of_source=self.extract.as_of_source,
            table_status=self._statuses(failures),
            failures=failures,
            notes=self.notes,
        )

    def _structure_failures(self) -> list[Failure]:
        """The missing core tables, each table's structure, then the tables whose rows could not be read."""
        failures = list(self.missing)
        for name, shape in self.shapes.items():
            if name not in self.unloadable:
                failures += shape.failures
        for name in self.shapes:  # in contract order, as when every table was copied before the checks
            failures += self.unloadable[name].failures if name in self.unloadable else []
        return failures

    def _shape(self, name: str) -> TableShape | None:
        return self.unloadable.get(name) or self.shapes.get(name)

    def _usable(self, name: str) -> bool:
        shape = self._shape(name)
        return shape is not None and shape.structure_ok

    def _rows(self, name: str) -> Iterator[pl.DataFrame]:
        """The table's sound contract columns, in row order, `batch_rows` rows at a time.

        Raises _Unreadable when the rows cannot be read (the metadata could).
        """
        cursor = self.con.cursor()
        batches = None
        try:
            while True:
                try:
                    if batches is None:
                        batches = iter(cursor.sql(f'SELECT * FROM "{name}"').to_arrow_reader(self.batch_rows))
                    batch = next(batches)
                except StopIteration:
                    return
                except (duckdb.Error, OSError, pa.ArrowException) as exc:
                    raise _Unreadable(exc) from exc
                yield pl.from_arrow(batch)
        finally:
            cursor.close()

    def _unreadable(self, name: str, exc: BaseException) -> None:
        """Mark the table unreadable, with DuckDB's own error (Arrow words it differently)."""
        try:  # the statement that met the error before rows were read in batches (rare, so not costly)
            self.con.execute(f'CREATE TEMP TABLE "__read_check" AS SELECT * FROM "{name}"')
            self.con.execute('DROP TABLE "__read_check"')
        except (duckdb.Error, OSError) as again:
            exc = again
        self.unloadable[name] = unreadable(name, exc)
        self.row_failures.pop(name, None)

    def _read_all(self, name: str) -> None:
        try:
            for _ in self._rows(name):
                pass
        except _Unreadable as exc:
            self._unreadable(name, exc.__cause__)

    def _local_factor_codes(self) -> frozenset[str]:
        if not self._usable("factor_codes"):
            if "factors" in self.shapes:
                self.notes.append("factor_codes is missing or unusable: every non-CIN factor code is an error")
            return frozenset()
        rows = self.con.sql("SELECT DISTINCT factor_code FROM factor_codes WHERE factor_code IS NOT NULL")
        return frozenset(r[0] for r in rows.fetchall())

    def _check_rows(self, name: str, ctx: RuleContext) -> None:
        columns = self.shapes[name].usable_columns
        try:
            checker = BatchChecker(name, columns, ctx)
            keys = [KeyHashes(check) for check in key_checks(name, columns)]
            for frame in self._rows(name):
                checker.check(frame)
                for key in keys:
                    key.add(frame)
            found = [key_failure(self.con, f'"{name}"', name, k.check) for k in keys if k.may_repeat()]
            self.row_failures[name] = checker.failures([f for f in found if f is not None])
        except _Unreadable as exc:
            self._unreadable(name, exc.__cause__)
        except Exception as exc:  # noqa: BLE001 - a broken rule must not hide the other tables
            check = f"row checks could not run ({type(exc).__name__}: {exc})"
            self.row_failures[name] = [Failure(name, "(rules)", check, ERROR, 1, [])]

    def _runnable_cross_rules(self) -> list[CrossRule]:
        """The rules whose tables all have a sound structure (their rows are not read yet)."""
        return [rule for rule in cross_rules() if all(self._usable(t) for t in (rule.table, *rule.needs))]

    def _try_cross_rule(self, rule: CrossRule, ctx: RuleContext) -> tuple[str, Any]:
        """("failure", Failure or None), ("not run", first line of DuckDB's error) or ("raised", exception)."""
        cursor = self.con.cursor()
        try:
            return "failure", run_cross_rule(cursor, rule, ctx)
        except duckdb.Error as exc:
            return "not run", str(exc).strip().splitlines()[0]
        except Exception as exc:  # noqa: BLE001 - raised below only if the rule's result is used
            return "raised", exc
        finally:
            cursor.close()

    def _check_across(self, results: dict[CrossRule, tuple[str, Any]]) -> list[Failure]:
        failures = []
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
            outcome, value = results[rule]
            if outcome == "raised":
                raise value
            if outcome == "not run":
                self.notes.append(f"could not run {rule.table}.{rule.column} '{rule.check}': {value}")
            elif value is not None:
                failures.append(value)
        return failures

    def _statuses(self, failures: list[Failure]) -> dict[str, str]:
        statuses = {}
        for name, spec in TABLES.items():
            shape = self._shape(name)
            severities = {f.severity for f in failures if f.table == name}
            if shape is None:
                statuses[name] = "missing_required" if spec.core else "missing"
            elif not shape.readable:
                statuses[name] = "unreadable"
            elif not shape.structure_ok:
                statuses[name] = "wrong_structure"
            else:
                statuses[name] = "errors" if ERROR in severities else "warnings" if severities else "ok"
        return statuses


class _Unreadable(Exception):
    """A table's rows could not be read (its Parquet metadata could)."""

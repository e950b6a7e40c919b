"""Finding and reading the files of an SSD export: one CSV or Parquet file per `ssd_*` table.

A file is recognised by its name (`ssd_person.csv`, `LA123_SSD_Person_2024.parquet`), or failing
that by its columns (the table whose ID column it has). Column names are matched in lower case,
with a byte-order mark or spaces removed, in any order; extra columns are listed in the report.
CSV is read as UTF-8 (with or without a BOM), else Windows-1252. A CSV that breaks part way (an
unterminated quote, a NUL byte) keeps the rows read before the break and reports the rest; a
line with more values than the header is dropped and reported. A Parquet file is checked before
it is read: one that declares more unpacked data than `max_uncompressed_mb`, or packs tighter
than `max_compression_ratio`, is refused (ingest.safe_files).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest import safe_files
from ingest.report import RunReport, SourceError
from ingest.ssd_tables import ALIASES, KNOWN, LOCAL_COLUMNS, NOT_USED, USED

SUFFIXES = (".csv", ".parquet")
csv.field_size_limit(16 * 1024 * 1024)  # a JSON column can be long; the memory limit bounds the rest


class Record:
    """One source row of an SSD table: its values by (lower-case) column, and where it was."""

    __slots__ = ("table", "where", "values")

    def __init__(self, table: str, where: str, values: dict):
        self.table, self.where, self.values = table, where, values

    def __getitem__(self, column: str):
        if column not in USED[self.table].reads and column not in LOCAL_COLUMNS.get(self.table, ()):
            raise KeyError(f"{self.table}.{column} is read but not declared in ingest/ssd_tables.py")
        return self.values.get(column)


@dataclass
class SourceTable:
    """The rows of one SSD table, from one or more files."""

    name: str
    files: list[str] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    records: list[Record] = field(default_factory=list)


def table_of_name(path: Path) -> str | None:
    """The SSD table a file name names: from 'ssd_' on, less any suffix ('_2024', '_extract', ' (1)')."""
    stem = path.stem.lower().replace("-", "_").replace(" ", "_")
    at = stem.find("ssd_")
    if at < 0:
        return None
    name = re.sub(r"[^a-z0-9_].*$", "", stem[at:]).rstrip("_")
    while name and name not in KNOWN and name not in ALIASES:
        name = name.rsplit("_", 1)[0] if "_" in name[4:] else ""  # 'ssd_person_extract' -> 'ssd_person'
    return ALIASES.get(name, name) or None


def table_of_columns(columns: list[str]) -> str | None:
    """The used SSD table whose key columns are all among `columns` (most key columns first)."""
    best = None
    for table, use in USED.items():
        matches = use.required and all(c in columns for c in use.required)
        if matches and (best is None or len(use.required) > len(USED[best].required)):
            best = table
    return best


def read_export(path: Path, report: RunReport) -> dict[str, SourceTable]:
    """Every SSD table in the folder (or the one file) `path`; other files are listed in the report."""
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")) if path.is_dir() else [path]
    found: dict[str, SourceTable] = {}
    ignored = []
    for file in files:
        if file.suffix.lower() not in SUFFIXES:
            ignored.append(file.name)
            continue
        table = table_of_name(file)
        if table in NOT_USED:
            columns, records = _read(file, table, report)
            _add(found, table, file, columns, records)
            continue
        columns, records = _read(file, table, report)
        table = table or table_of_columns(columns)
        if table is None:
            ignored.append(f"{file.name} (columns {', '.join(columns[:6]) or 'none'})")
            continue
        if table != table_of_name(file):
            report.note(f"{file.name} was recognised as {table} by its columns")
            records = [Record(table, r.where, r.values) for r in records]
        if _has_required(file, table, columns, report):
            _add(found, table, file, columns, records)
    if ignored:
        report.note("not SSD tables, not used: " + "; ".join(ignored))
    return found


def _add(found: dict[str, SourceTable], table: str, file: Path, columns: list[str], records: list[Record]) -> None:
    source = found.setdefault(table, SourceTable(table))
    source.files.append(file.name)
    source.columns.update(columns)
    source.records.extend(records)


def _has_required(file: Path, table: str, columns: list[str], report: RunReport) -> bool:
    """Whether the file has its table's key columns; ssd_person without them stops the import."""
    if not columns:  # an empty file: the table holds no rows
        report.note(f"{file.name} is empty: {table} holds no rows")
        return True
    missing = [c for c in USED[table].required if c not in columns]
    if not missing:
        extra = sorted(set(columns) - set(USED[table].reads) - set(LOCAL_COLUMNS.get(table, ())))
        if extra and table != "ssd_person":  # ssd_person's unread columns (names, NHS number) are never listed
            report.note(f"{file.name}: columns not used: {', '.join(extra[:12])}{' ...' if len(extra) > 12 else ''}")
        return True
    if table == "ssd_person":
        raise SourceError(
            f"{file.name} is the SSD person table but lacks the column {', '.join(missing)} "
            f"(found: {', '.join(columns[:12])})"
        )
    for column in missing:
        report.problem(USED[table].fills[0], file.name, column, None, f"{table} has no column {column}: file not used")
    return False


def _read(file: Path, table: str | None, report: RunReport) -> tuple[list[str], list[Record]]:
    if file.suffix.lower() == ".parquet":
        return _read_parquet(file, table, report)
    return _read_csv(file, table, report)


def _normal(column) -> str:
    return str(column).replace("\ufeff", "").strip().lower()


def _problem_table(table: str | None) -> str:
    return USED[table].fills[0] if table in USED else (table or "(file)")


def _read_csv(file: Path, table: str | None, report: RunReport) -> tuple[list[str], list[Record]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return _read_csv_as(file, table, report, encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError(f"{file.name} is neither UTF-8 nor Windows-1252 text")  # cp1252 decodes almost anything


def _read_csv_as(file: Path, table: str | None, report: RunReport, encoding: str):
    columns: list[str] = []
    records: list[Record] = []
    problems: list[tuple] = []
    with file.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        line = 1
        try:
            for values in reader:
                start, line = line, reader.line_num + 1
                if not columns:
                    columns = [_normal(c) for c in values]
                    continue
                if not any(v.strip() for v in values):
                    continue  # a blank line
                where = f"{file.name} line {start}"
                if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
                    problems.append(
                        ("drop", where, f"the line has {len(values)} values; the header has {len(columns)}")
                    )
                    continue
                records.append(Record(table or "", where, dict(zip(columns, values, strict=False))))
        except csv.Error as exc:
            problems.append(("broken", f"{file.name} line {line}", f"not readable CSV from here ({exc}): the rest of the file is not read"))  # fmt: skip
    for kind, where, issue in problems:  # after decoding worked: a retry in another encoding reports nothing twice
        if kind == "drop":
            report.drop(_problem_table(table), issue, where)
        else:
            report.problem(_problem_table(table), where, "(file)", None, issue)
    return columns, records


def _read_parquet(file: Path, table: str | None, report: RunReport) -> tuple[list[str], list[Record]]:
    import polars as pl

    safe_files.check_parquet(file)
    try:
        frame = pl.read_parquet(file)
    except (pl.exceptions.PolarsError, OSError) as exc:
        if table == "ssd_person":
            raise SourceError(f"{file.name} is not a Parquet file that can be read ({type(exc).__name__})") from None
        report.problem(_problem_table(table), file.name, "(file)", None, "not a readable Parquet file: not used")
        return [], []
    columns = [_normal(c) for c in frame.columns]
    records = [
        Record(table or "", f"{file.name} row {n}", dict(zip(columns, values, strict=True)))
        for n, values in enumerate(frame.iter_rows(), 1)
    ]
    return columns, records

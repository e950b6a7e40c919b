"""Structural checks: can a table be read, and has it every contract column with the right type?

Types are read from the Parquet metadata through DuckDB (the engine the app queries with),
without loading any rows. Accepted physical types per contract type:

- str: VARCHAR (Parquet string, any encoding).
- date: DATE only. A TIMESTAMP or a string of dates is the wrong structure.
- bool: BOOLEAN.
- float: DOUBLE or FLOAT. Integers or DECIMAL are readable and usable, with a warning
  (FLOAT64 expected).
- int: any integer width, signed or unsigned.
- A nullable column written with no values and no type (Parquet null) is usable, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from schemas.contract import TABLES
from schemas.extract import TableSource
from schemas.rules.base import ERROR, WARNING, Failure

INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
FLOAT_TYPES = {"DOUBLE", "FLOAT"}
EXPECTED = {"str": "VARCHAR", "date": "DATE", "bool": "BOOLEAN", "float": "DOUBLE", "int": "an integer"}
TYPE_WORDS = {
    "str": "a string",
    "date": "a Parquet DATE (not a timestamp, not a string)",
    "bool": "a BOOLEAN",
    "float": "a FLOAT64",
    "int": "an integer",
}


@dataclass
class TableShape:
    """What the structural check found for one table."""

    readable: bool
    types: dict[str, str] = field(default_factory=dict)  # every column found -> DuckDB type
    usable_columns: list[str] = field(default_factory=list)  # contract columns present, right type
    failures: list[Failure] = field(default_factory=list)

    @property
    def structure_ok(self) -> bool:
        """Readable, and no structural error (a missing column or a wrong type)."""
        return self.readable and not any(f.severity == ERROR for f in self.failures)


def column_type_verdict(contract_type: str, found: str, nullable: bool) -> str:
    """'ok', 'warning' or 'error' for a column of DuckDB type `found` declared `contract_type`."""
    if found == '"NULL"':
        return WARNING if nullable else ERROR
    if contract_type == "str":
        return "ok" if found == "VARCHAR" else ERROR
    if contract_type == "date":
        return "ok" if found == "DATE" else ERROR
    if contract_type == "bool":
        return "ok" if found == "BOOLEAN" else ERROR
    if contract_type == "int":
        return "ok" if found in INTEGER_TYPES else ERROR
    if contract_type == "float":
        if found in FLOAT_TYPES:
            return "ok"
        return WARNING if found in INTEGER_TYPES or found.startswith("DECIMAL") else ERROR
    raise ValueError(f"unknown contract type {contract_type!r}")


def check_structure(con: duckdb.DuckDBPyConnection, source: TableSource) -> TableShape:
    """Read the table's column types and compare them with the contract."""
    try:
        rows = con.sql(f"DESCRIBE SELECT * FROM {source.read_sql()}").fetchall()
    except (duckdb.Error, OSError) as exc:
        return unreadable(source.name, exc)
    shape = TableShape(readable=True, types={r[0]: r[1] for r in rows})
    for col in TABLES[source.name].columns:
        found = shape.types.get(col.name)
        if found is None:
            shape.failures.append(Failure(source.name, col.name, "required column is missing", ERROR, 1, []))
            continue
        verdict = column_type_verdict(col.type, found, col.nullable)
        if verdict != "ok":
            check = (
                "has no values and no type (a nullable column written empty)"
                if found == '"NULL"' and verdict == WARNING
                else f"must be {TYPE_WORDS[col.type]}"
            )
            example = {"found_type": found, "expected_type": EXPECTED[col.type]}
            shape.failures.append(Failure(source.name, col.name, check, verdict, 1, [example]))
        if verdict != ERROR:
            shape.usable_columns.append(col.name)
    return shape


def unreadable(table: str, exc: BaseException) -> TableShape:
    """The shape of a table whose file(s) cannot be read as Parquet."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    failure = Failure(table, "(file)", "must be a readable Parquet file", ERROR, 1, [{"error": message}])
    return TableShape(readable=False, failures=[failure])

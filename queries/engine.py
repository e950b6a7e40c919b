"""Running named questions against an extract through DuckDB.

`Engine(extract)` opens one DuckDB connection, checks each table's structure
(readable Parquet, contract columns of the right types), creates a view for
every usable table and installs the working-day calendar. `engine.run(name,
**params)` checks and binds the parameters and returns a polars DataFrame,
using its own cursor so one engine can serve many sessions at once.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

import duckdb
import polars as pl

from queries.access import ALLOWED_CHILDREN_SQL, CHILD_HISTORIES, AccessDenied, Scope, filter_answer, scoped_params
from queries.calendar import install_calendar
from queries.registry import MACRO_DIR, Param, Query, get_query
from queries.settings import setting
from schemas.codes import all_labels
from schemas.contract import TABLES
from schemas.extract import Extract, open_extract
from schemas.rules.base import ERROR
from schemas.rules.structure import check_structure as table_shape

MATERIALISE_BYTES = 64 * 1024 * 1024


class QueryError(Exception):
    """A question cannot be answered; the message is safe to show to a user."""

    exit_code = 2


class UnknownQuery(QueryError):
    pass


class BadParameter(QueryError):
    pass


class NotAllowed(QueryError):
    """The signed-in user's role may not see this answer."""

    exit_code = 1


class TableUnavailable(QueryError):
    """A table the question needs is missing, unreadable or has the wrong structure."""

    exit_code = 1


@dataclass
class TableState:
    name: str
    status: str  # ok, missing, missing_required, unreadable, wrong_structure
    problems: list[str]

    @property
    def usable(self) -> bool:
        return self.status == "ok"


def check_structure(con: duckdb.DuckDBPyConnection, extract: Extract) -> dict[str, TableState]:
    """For each contract table: can it be read, and are its columns there with the right types?

    The validator's structural rule decides (schemas.rules.structure), so the app and
    `python -m schemas validate` always agree on which tables are usable.
    """
    states: dict[str, TableState] = {}
    for name, table in TABLES.items():
        source = extract.tables.get(name)
        if source is None:
            status = "missing_required" if table.core else "missing"
            states[name] = TableState(name, status, [f"{name}: no {name}.parquet in the extract"])
            continue
        shape = table_shape(con, source)
        errors = [f for f in shape.failures if f.severity == ERROR]
        if not shape.readable:
            detail = errors[0].examples[0]["error"] if errors and errors[0].examples else "unknown error"
            states[name] = TableState(name, "unreadable", [f"{name}: cannot be read as Parquet ({detail})"])
            continue
        problems = [
            f"{name}.{f.column}: {f.check}"
            + (f", found {f.examples[0]['found_type']}" if f.examples and "found_type" in f.examples[0] else "")
            for f in errors
        ]
        states[name] = TableState(name, "wrong_structure" if problems else "ok", problems)
    return states


class Engine:
    """One extract, one DuckDB connection, views for the usable tables."""

    def __init__(
        self, extract: Extract | None = None, memory_limit: str | None = None, materialise: bool | None = None
    ):
        self.extract = extract or open_extract()
        # A council-sized extract (a few MB) is copied into memory once: every question then
        # skips re-reading Parquet. Larger extracts are queried in place.
        self.materialise = self.extract.size_bytes() <= MATERIALISE_BYTES if materialise is None else materialise
        self.con = duckdb.connect(":memory:")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self._lock = threading.Lock()
        self.tables = check_structure(self.con, self.extract)
        for name, state in self.tables.items():
            columns = ", ".join(TABLES[name].column_names)
            if state.usable:
                source = self.extract.tables[name].read_sql()
                kind = "TABLE" if self.materialise else "VIEW"
                self.con.execute(f"CREATE {kind} {name} AS SELECT {columns} FROM {source}")
            else:
                # An empty view of the right shape lets shared macros bind; questions that
                # declare the table still refuse to run, naming what is wrong with it.
                self.con.execute(f"CREATE VIEW {name} AS {empty_table_sql(name)}")
        install_calendar(self.con)
        install_code_labels(self.con)
        install_macros(self.con)

    @property
    def as_of(self) -> dt.date:
        return self.extract.as_of

    def usable(self, table: str) -> bool:
        return self.tables[table].usable

    def unavailable_reason(self, tables) -> str | None:
        """Why these tables cannot all be used, in words for a user; None when they can."""
        reasons = []
        for table in tables:
            state = self.tables[table]
            if state.status in ("missing", "missing_required"):
                reasons.append(f"the {table} table is not in this extract")
            elif state.status == "unreadable":
                reasons.append(f"the {table} table could not be read ({state.problems[0].split(': ', 1)[1]})")
            elif state.status == "wrong_structure":
                reasons.append(f"the {table} table has the wrong structure: {'; '.join(state.problems)}")
        return "; ".join(reasons) or None

    def resolve_params(self, query: Query, given: dict) -> dict:
        """Check given parameters against the query's declaration and fill in defaults."""
        unknown = sorted(set(given) - {p.name for p in query.params})
        if unknown:
            allowed = ", ".join(p.name for p in query.params) or "none"
            raise BadParameter(f"{query.name}: unknown parameter {unknown[0]!r} (parameters: {allowed})")
        values = {}
        for param in query.params:
            raw = given.get(param.name)
            if raw is None or raw == "":
                values[param.name] = self._default(query, param)
            else:
                values[param.name] = coerce(query.name, param, raw)
        return values

    def _default(self, query: Query, param: Param):
        if param.default == "required":
            raise BadParameter(f"{query.name}: parameter {param.name} is required")
        if param.default == "null":
            return None
        if param.default == "as_of":
            return self.as_of
        if param.default == "setting":
            return setting(param.name)
        if param.default.startswith("setting:"):
            return coerce(query.name, param, setting(param.default.removeprefix("setting:")))
        return coerce(query.name, param, param.default)

    def run(self, name: str, scope: Scope | None = None, **params) -> pl.DataFrame:
        """Answer a named question; raises QueryError subclasses with user-readable messages.

        With a `scope` (a signed-in user), parameters are forced to the user's own worker and
        team and the answer is filtered to what the role may see (queries.access).
        """
        try:
            query = get_query(name)
        except KeyError:
            raise UnknownQuery(f"no query named {name!r} (python -m queries list shows them)") from None
        if scope is None:
            return self.run_query(query, **params)
        try:
            forced = scoped_params(query, params, scope)
        except AccessDenied as exc:
            raise NotAllowed(str(exc)) from None
        as_of = self.resolve_params(query, forced).get("as_of", self.as_of)
        about_one_child = any(p.name == "child_id" for p in query.params)
        if about_one_child and not scope.sees_everything and not self._may_see_child(scope, forced, as_of):
            raise NotAllowed("This child is not on your caseload or in your team's open cases.")
        answer = self.run_query(query, **forced)
        try:
            return filter_answer(
                answer,
                scope,
                allowed_children=lambda: self._allowed_children(scope, as_of),
                team_workers=lambda: self._team_workers(scope.team_id),
                child_history=query.name in CHILD_HISTORIES,
            )
        except AccessDenied as exc:
            raise NotAllowed(str(exc)) from None

    def _may_see_child(self, scope: Scope, params: dict, as_of) -> bool:
        """A question about one named child: only a child on the user's caseload or team."""
        if scope.role not in ALLOWED_CHILDREN_SQL:
            return False
        return params.get("child_id") in self._allowed_children(scope, as_of)

    def _allowed_children(self, scope: Scope, as_of) -> set[str]:
        who = scope.worker_id if scope.role == "social_worker" else scope.team_id
        cursor = self.con.cursor()
        try:
            rows = cursor.sql(ALLOWED_CHILDREN_SQL[scope.role], params={"who": who, "as_of": as_of}).fetchall()
        finally:
            cursor.close()
        return {r[0] for r in rows}

    def _team_workers(self, team_id) -> set[str]:
        cursor = self.con.cursor()
        try:
            rows = cursor.sql("SELECT worker_id FROM workers WHERE team_id = $t", params={"t": team_id}).fetchall()
        finally:
            cursor.close()
        return {r[0] for r in rows}

    def run_query(self, query: Query, **params) -> pl.DataFrame:
        """Answer a question given as a Query object (registered or not)."""
        values = self.resolve_params(query, params)
        reason = self.unavailable_reason(query.tables)
        if reason:
            raise TableUnavailable(f"{query.title} cannot be shown: {reason}.")
        cursor = self.con.cursor()
        try:
            if query.function is not None:
                return query.function(cursor, **values)
            used = {p: v for p, v in values.items() if re.search(rf"\${p}\b", query.sql)}
            return cursor.sql(query.sql, params=used).pl()
        finally:
            cursor.close()

    def close(self) -> None:
        self.con.close()


DUCK_TYPES = {"str": "VARCHAR", "date": "DATE", "bool": "BOOLEAN", "float": "DOUBLE", "int": "BIGINT"}


def empty_table_sql(name: str) -> str:
    columns = ", ".join(f"NULL::{DUCK_TYPES[c.type]} AS {c.name}" for c in TABLES[name].columns)
    return f"SELECT {columns} WHERE false"


def install_code_labels(con: duckdb.DuckDBPyConnection) -> None:
    """The words for codes (schemas/codes.toml) as a table, and `code_label(list, code)`."""
    con.execute("CREATE OR REPLACE TABLE code_labels (list VARCHAR, code VARCHAR, label VARCHAR)")
    con.executemany("INSERT INTO code_labels VALUES (?, ?, ?)", all_labels())
    con.execute(
        "CREATE OR REPLACE MACRO code_label(list_name, c) AS coalesce("
        "(SELECT label FROM code_labels WHERE list = list_name AND code = c), c)"
    )


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Shared building blocks in queries/macros/*.sql (each file one CREATE MACRO)."""
    for path in sorted(MACRO_DIR.glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def coerce(query_name: str, param: Param, raw):
    """Turn a parameter value (often text from a URL or command line) into its declared type."""
    try:
        if param.type == "date":
            value = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        elif param.type == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            value = int(raw)
        elif param.type == "float":
            value = float(raw)
        elif param.type == "bool":
            if isinstance(raw, bool):
                value = raw
            elif str(raw).lower() in ("true", "1", "yes"):
                value = True
            elif str(raw).lower() in ("false", "0", "no"):
                value = False
            else:
                raise ValueError
        else:
            value = str(raw)
    except (ValueError, TypeError):
        raise BadParameter(f"{query_name}: parameter {param.name} must be a {param.type}, got {raw!r}") from None
    if param.choices and value not in param.choices:
        raise BadParameter(
            f"{query_name}: parameter {param.name} must be one of {', '.join(param.choices)}, got {raw!r}"
        )
    return value

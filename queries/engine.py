"""Running named questions against an extract through DuckDB.

`Engine(extract)` opens one DuckDB connection, checks each table's structure
(readable Parquet, contract columns of the right types), makes every usable
table available under its own name and installs the working-day calendar.
`engine.run(name, **params)` checks and binds the parameters and returns a
polars DataFrame, using its own cursor so one engine can serve many sessions
at once.

Where the tables live (`storage`), chosen by size unless asked for:
- "memory": a council-sized extract (up to MATERIALISE_BYTES of Parquet) is copied into memory;
- "database": a larger one is copied once into a DuckDB database file in the cache folder
  ($CHILDSTAT_CACHE, else ~/.cache/childstat; schemas/cache.py), named by a hash of the extract's
  files (paths, sizes, modification times), rebuilt when they change and opened read-only
  afterwards, so questions stop decoding Parquet; the extract folder itself is never written to.
  queries/database.py builds it (one process at a time, only the parts whose files changed, each
  step timed) and checks it before use (one that cannot be read is rebuilt).
  The folder is 0700 and every file in it 0600; opening a database prunes the folder (copies of
  extracts gone or changed, then the least recently used beyond the max_cache_gb setting);
- "views": views straight over the Parquet (nothing copied).
A large extract also gets a DuckDB memory limit (LARGE_MEMORY_LIMIT, or memory_limit=) with
spilling to the cache folder, and one thread per core.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from queries.access import ALLOWED_CHILDREN_SQL, CHILD_HISTORIES, AccessDenied, Scope, filter_answer, scoped_params
from queries.calendar import install_calendar
from queries.database import (
    LARGE_MEMORY_LIMIT,
    LEFT_IN_PARQUET,
    StepTime,
    copied_columns,
    open_database,
    setting_text,
    summary_buildable,
)
from queries.disclosure import cell_key_secret, install_record_keys, protect, without_keys
from queries.registry import MACRO_DIR, Param, Query, get_query, in_dependency_order, summaries
from queries.settings import setting
from schemas.cache import (
    cache_folder,  # noqa: F401 - moved to schemas.cache; importable from here for existing callers
    max_cache_bytes,
    open_cache_folder,
    private_folder,
    prune,
    release,
)
from schemas.codes import all_labels
from schemas.contract import TABLES
from schemas.extract import Extract, open_extract
from schemas.rules.base import ERROR
from schemas.rules.structure import check_structure as table_shape

MATERIALISE_BYTES = 64 * 1024 * 1024
STORAGES = ("memory", "database", "views")


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
        self,
        extract: Extract | None = None,
        memory_limit: str | None = None,
        materialise: bool | None = None,
        *,
        storage: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        progress: Callable[[str], None] | None = None,
    ):
        self.extract = extract or open_extract()
        self.storage = choose_storage(self.extract, materialise, storage)
        # Kept for callers that read it: True when the tables were copied (into memory or a database).
        self.materialise = self.storage != "views"
        self.database_path: Path | None = None
        self._release: weakref.finalize | None = None  # lets go of the cached database (see _attach_database)
        self.build_steps: list[StepTime] = []  # each step's time, when this engine built the database
        large = self.storage == "database"
        self.con = duckdb.connect(":memory:")
        memory_limit = (
            memory_limit or os.environ.get("CHILDSTAT_MEMORY_LIMIT") or (LARGE_MEMORY_LIMIT if large else None)
        )
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{setting_text(memory_limit)}'")
        self._lock = threading.Lock()
        self.tables = check_structure(self.con, self.extract)
        if large:
            report = progress or _stderr_progress
            try:
                cache = open_cache_folder(self.extract, cache_dir)  # 0700, tightened if it was not
                spill = private_folder(cache / "spill")
                self.con.execute(f"SET temp_directory = '{setting_text(spill)}'")
                self.con.execute(f"SET threads = {max(os.cpu_count() or 1, 1)}")
                self.con.execute("SET preserve_insertion_order = false")
                self.database_path = self._attach_database(cache, report)
            except (OSError, ValueError, duckdb.Error) as exc:
                if storage == "database" or os.environ.get("CHILDSTAT_STORAGE") == "database":
                    raise  # asked for explicitly: say why it cannot be had
                # Chosen by size: answer from the Parquet instead (slower, but the same answers).
                report(f"No query database for {self.extract.la_name} ({exc}); reading the Parquet directly")
                large, self.storage, self.materialise, self.database_path = False, "views", False, None
                if self._release is not None:
                    self._release()
        for name, state in self.tables.items():
            columns = ", ".join(TABLES[name].column_names)
            if state.usable and large and name not in LEFT_IN_PARQUET:
                stored = ", ".join(copied_columns(name))
                self.con.execute(f"CREATE VIEW {name} AS SELECT {stored} FROM store.main.{name}")
            elif state.usable:
                source = self.extract.tables[name].read_sql()
                kind = "TABLE" if self.storage == "memory" else "VIEW"
                self.con.execute(f"CREATE {kind} {name} AS SELECT {columns} FROM {source}")
            else:
                # An empty view of the right shape lets shared macros bind; questions that
                # declare the table still refuse to run, naming what is wrong with it.
                self.con.execute(f"CREATE VIEW {name} AS {empty_table_sql(name)}")
        self._install_summaries(large)
        # Which engine a cursor belongs to: Python questions key their caches by it (the extract an engine
        # reads does not change under it, so its answers for the same parameters do not either).
        self.instance_id = uuid.uuid4().hex
        self.con.execute("CREATE TABLE childstat_engine AS SELECT ? AS instance_id", [self.instance_id])
        install_calendar(self.con)
        install_record_keys(self.con, cell_key_secret(cache_folder(self.extract, cache_dir)))
        install_code_labels(self.con)
        self.con.execute("CREATE TABLE extract_tables (table_name VARCHAR, usable BOOLEAN)")
        self.con.executemany(
            "INSERT INTO extract_tables VALUES (?, ?)", [(n, s.usable) for n, s in self.tables.items()]
        )
        install_macros(self.con)

    def _install_summaries(self, in_store: bool) -> None:
        """Each summary table: from the cached database, copied into memory, or a view (computed when read).

        A summary whose tables are not all usable is a view over their empty stand-ins, so it reads as empty.
        """
        usable = {name for name, state in self.tables.items() if state.usable}
        built: set[str] = set()
        for summary in summaries():
            if not summary_buildable(summary, usable, built):
                self.con.execute(f"CREATE VIEW {summary.name} AS {summary.sql}")
                continue
            if in_store:
                self.con.execute(f"CREATE VIEW {summary.name} AS SELECT * FROM store.main.{summary.name}")
            else:
                kind = "TABLE" if self.storage == "memory" else "VIEW"
                self.con.execute(f"CREATE {kind} {summary.name} AS {summary.sql}")
            built.add(summary.name)

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

        Without a scope, the exact answer (an analyst with the extract's files, at the command line).
        With a `scope` (a signed-in user, or `--as ROLE`), the question must be declared for the role,
        parameters are forced to the user's own worker, team and the extract's as_of, the answer is
        filtered to what the role may see (queries.access) and its counts protected (queries.disclosure).
        """
        query = self.query(name)
        if scope is None:
            return without_keys(self.run_query(query, **params))
        forced = self.enforced_params(query, params, scope)
        as_of = self.resolve_params(query, forced).get("as_of", self.as_of)
        about_one_child = any(p.name == "child_id" for p in query.params)
        if about_one_child and not scope.sees_everything and not self._may_see_child(scope, forced, as_of):
            raise NotAllowed("This child is not on your caseload or in your team's open cases.")
        answer = self.run_query(query, **forced)
        try:
            answer = filter_answer(
                answer,
                scope,
                allowed_children=lambda: self._allowed_children(scope, as_of),
                team_workers=lambda: self._team_workers(scope.team_id),
                child_history=query.name in CHILD_HISTORIES,
                child_level=query.child_level,
            )
        except AccessDenied as exc:
            raise NotAllowed(str(exc)) from None
        return protect(answer, query, scope)

    def query(self, name: str) -> Query:
        try:
            return get_query(name)
        except KeyError:
            raise UnknownQuery(f"no query named {name!r} (python -m queries list shows them)") from None

    def enforced_params(self, query: Query | str, params: dict, scope: Scope) -> dict:
        """The parameters a question really runs with for this user (what the audit log records)."""
        query = self.query(query) if isinstance(query, str) else query
        try:
            return scoped_params(query, params, scope)
        except AccessDenied as exc:
            raise NotAllowed(str(exc)) from None

    def _may_see_child(self, scope: Scope, params: dict, as_of) -> bool:
        """A question about one named child: only a child on the user's caseload or team."""
        if scope.role not in ALLOWED_CHILDREN_SQL:
            return False
        return params.get("child_id") in self._allowed_children(scope, as_of)

    def children_in_scope(self, scope: Scope) -> set[str]:
        """The children a (non-analyst) user may see on the extract's date: their caseload or their team's."""
        if scope.role not in ALLOWED_CHILDREN_SQL:
            return set()
        return self._allowed_children(scope, self.as_of)

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
            return cursor.sql(query.sql, params=bound_params(query.sql, values)).pl()
        finally:
            cursor.close()

    def _attach_database(self, cache: Path, report: Callable[[str], None]) -> Path:
        """Build or open the extract's database (queries/database.py), attached read-only, then prune the cache folder.

        The database is held for this process until the engine is closed (or collected), so no
        prune removes it meanwhile. Should another process remove it between the build and the
        attach, it is built again, once.
        """
        usable = [name for name, state in self.tables.items() if state.usable]
        for attempt in (1, 2):
            try:
                path, self.build_steps = open_database(self.con, self.extract, usable, cache, report)
                break
            except OSError:
                if attempt == 2:
                    raise
        self._release = weakref.finalize(self, release, path)
        with contextlib.suppress(OSError):  # a cache that cannot be pruned still serves
            prune(cache, keep={path}, max_bytes=max_cache_bytes())
        return path

    def close(self) -> None:
        self.con.close()
        if self._release is not None:
            self._release()


def choose_storage(extract: Extract, materialise: bool | None, storage: str | None) -> str:
    """memory, database or views: as asked (storage=, materialise=, $CHILDSTAT_STORAGE, in that order), else by size."""
    if storage is None and materialise is not None:
        return "memory" if materialise else "views"
    storage = storage or os.environ.get("CHILDSTAT_STORAGE") or None
    if storage:
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {', '.join(STORAGES)}, not {storage!r}")
        return storage
    return "memory" if extract.size_bytes() <= MATERIALISE_BYTES else "database"


def bound_params(sql: str, values: dict) -> dict:
    """The parameters this SQL uses ($name): DuckDB refuses values for parameters a statement does not have."""
    return {name: value for name, value in values.items() if re.search(rf"\${name}\b", sql)}


def engine_instance(cursor: duckdb.DuckDBPyConnection) -> str:
    """The id of the engine a cursor belongs to (a new one for every Engine)."""
    return cursor.sql("SELECT instance_id FROM childstat_engine").fetchall()[0][0]


def _stderr_progress(message: str) -> None:
    print(f"ChildStat: {message}", file=sys.stderr, flush=True)


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
    texts = {path.stem: path.read_text(encoding="utf-8") for path in sorted(MACRO_DIR.glob("*.sql"))}
    for name in in_dependency_order(texts):
        con.execute(texts[name])


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

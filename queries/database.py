"""The cached DuckDB database of a large extract: built once per version of its files, by one process.

`open_database(con, ...)` attaches the extract's database read-only to an engine's connection as
`store`, building it first when it is missing, out of date or cannot be read:

- **Checked before use.** A database is used only if DuckDB can open it, it holds every table and
  summary it should, and the file is as long as its blocks say (a file cut short opens, then fails
  a question with "Could not read enough bytes"). One that fails is said in the log and the progress
  messages, and rebuilt, once.
- **One builder.** Building takes an exclusive `fcntl.flock` on `<folder key>.lock` beside the
  databases, one lock per extract folder. Another process (or thread) starting on the same extract
  meanwhile waits for it, then opens what it built; two never write at once. The operating system
  lets go of the lock when a builder dies.
- **Nothing half-built is ever opened.** A build writes `<database>.building-<pid>-<thread>` and
  renames it into place when complete (atomic); under the lock any such file of the same extract
  folder is a dead builder's, and is removed.
- **Only what changed is rebuilt.** The database records what each table and summary was made from
  (`childstat_sources`: its files' sizes and times, its SQL). A new version of the files copies
  whatever did not change from the previous version's database instead of reading Parquet again.
- **Timed.** Every step's time goes to the progress messages and `Engine.build_steps`
  (`python -m benchmarks.build` prints them).
- **Only what questions read is copied.** A table in `LEFT_IN_PARQUET` is read from the Parquet by
  the summaries made from it and by the engine's view of it; the database holds its summaries only. A
  column in `NOT_COPIED` is left out of its table's copy and of the engine's view of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from queries.registry import Query, summaries
from schemas.cache import hold, private_empty_file, private_folder, record_database, release, remove_database, tighten
from schemas.contract import TABLES
from schemas.extract import Extract

try:
    import fcntl
except ImportError:  # Windows: one process per extract is assumed
    fcntl = None

log = logging.getLogger("childstat")

LARGE_MEMORY_LIMIT = "1.5GB"  # DuckDB's own limit for a large extract; the app process stays under 2 GB
# Bump when what is copied into the database changes, so older cached databases are rebuilt.
DATABASE_FORMAT = 4  # 2: summary tables; 3: childstat_sources (what each table was made from); 4: LEFT_IN_PARQUET
HEADER_BYTES = 3 * 4096  # a DuckDB file's header and its two database headers, before the first block
# Tables copied in this order, so a child's rows sit together (small min/max zones per block): one
# child's visits are found in about 1 ms nationally, against 135 ms in date order.
DATABASE_ORDER = {
    "referrals": "child_id, referral_date, referral_id",
    "visits": "child_id, visit_date",
    "assessments": "child_id",
}
SOURCES = "childstat_sources"
# Tables the database does not copy: the build reads them from the Parquet for the summaries made from
# them, and the engine's view of each still reads the Parquet. Each is read by no question, or only by
# the files named here, whose filtered scan is as quick on the Parquet (nationally, hypothesis_outcome's
# factor filter: 0.09 s on the Parquet, 0.07 s on a copy). Copying these four took 12.7 s of the
# national build. tests/test_database_rebuild.py fails when any other question, macro or page reads one.
LEFT_IN_PARQUET: dict[str, tuple[str, ...]] = {
    "contacts": (),  # 17.5 M rows nationally, read only through contact_next_referral
    "education": (),  # 8.9 M, only through neet_school_years
    "early_help": (),  # 1.4 M, read by nothing yet
    "factors": ("queries/sql/hypothesis_outcome.sql",),  # 13.7 M; the pattern pages read child_factor_first
}
# Columns no question reads, left out of the copy (and of the engine's view of the table): visit_id is
# 13.9 M distinct strings nationally, 2.3 s of the 6 s copy of visits. tests/test_database_rebuild.py fails
# when a question, macro or page reads one: copy it again then.
NOT_COPIED: dict[str, tuple[str, ...]] = {"visits": ("visit_id",)}


def copied_columns(name: str) -> list[str]:
    """The columns of a table the database copies (and the engine's view of its copy shows)."""
    return [c for c in TABLES[name].column_names if c not in NOT_COPIED.get(name, ())]


@dataclass(frozen=True)
class Step:
    """One table or summary of the database: what it is made by (`sql`) and from (`source`, a hash)."""

    name: str
    label: str  # in progress messages: the table's name, or "summary <name>"
    sql: str
    source: str
    stored: bool = True  # False: a table of LEFT_IN_PARQUET, only a view while building


@dataclass(frozen=True)
class StepTime:
    label: str
    seconds: float
    how: str  # "read" (from the Parquet or computed) or "kept" (copied from the previous version)


def summary_buildable(summary: Query, usable: set[str], built: set[str]) -> bool:
    """Whether a summary table can be computed: its tables usable and the summaries it reads built."""
    return set(summary.tables) <= usable and set(summary.extra["summaries"]) <= built


def setting_text(value) -> str:
    """A path or size for a DuckDB SET/ATTACH string literal (quotes doubled)."""
    return str(value).replace("'", "''")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def table_files(extract: Extract, name: str) -> str:
    """The table's files as they are now: path, size and modification time of each."""
    source = extract.tables[name]
    files = sorted(source.path.rglob("*.parquet")) if source.is_folder else [source.path]
    return "|".join(f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)


def build_steps(extract: Extract, usable: list[str]) -> list[Step]:
    """The tables, then the summaries that can be built, each with a hash of what it is made from."""
    steps, sources = [], {}
    version = f"{DATABASE_FORMAT}|{duckdb.__version__}"
    for name in usable:
        columns = ", ".join(copied_columns(name))
        order = f" ORDER BY {DATABASE_ORDER[name]}" if name in DATABASE_ORDER else ""
        sql = f"SELECT {columns} FROM {extract.tables[name].read_sql()}{order}"
        sources[name] = _digest(f"{version}|{columns}|{order}|{table_files(extract, name)}")
        steps.append(Step(name, name, sql, sources[name], stored=name not in LEFT_IN_PARQUET))
    built: set[str] = set()
    for summary in summaries():
        if not summary_buildable(summary, set(usable), built):
            continue
        # What it reads: its declared tables, any table its SQL names (a superset is only cautious), the
        # summaries it reads; an unusable table counts too (as unusable).
        read = sorted({*summary.tables, *(t for t in TABLES if re.search(rf"\b{t}\b", summary.sql))})
        inputs = [f"{t}={sources.get(t, 'unusable')}" for t in read]
        inputs += [f"{s}={sources[s]}" for s in summary.extra["summaries"]]
        sources[summary.name] = _digest(f"{version}|{summary.sql}|{'|'.join(inputs)}")
        steps.append(Step(summary.name, f"summary {summary.name}", summary.sql, sources[summary.name]))
        built.add(summary.name)
    return steps


def database_key(extract: Extract, steps: list[Step]) -> tuple[str, str]:
    """(one name per extract folder, one per version of its files): the cached database's file name parts."""
    folder = _digest(str(extract.path.resolve()))[:12]
    return folder, _digest("|".join(f"{s.name}:{s.source}" for s in steps))


def database_problem(con: duckdb.DuckDBPyConnection, path: Path, steps: list[Step]) -> str | None:
    """Attach `path` to `con` as `store` (read-only); if it cannot serve, detach it and say why (None: it can)."""
    try:
        con.execute(f"ATTACH '{setting_text(path)}' AS store (READ_ONLY)")
    except duckdb.Error as exc:
        return _short(exc)
    try:
        block_size, blocks = con.execute(
            "SELECT block_size, total_blocks FROM pragma_database_size() WHERE database_name = 'store'"
        ).fetchone()
        size = path.stat().st_size
        have = {
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'store'").fetchall()
        }
        missing = [s.name for s in steps if s.stored and s.name not in have]
        if size < HEADER_BYTES + blocks * block_size:
            problem = f"the file is cut short: {size:,} bytes of {HEADER_BYTES + blocks * block_size:,}"
        elif missing:
            problem = f"it lacks {len(missing)} of its tables, {missing[0]} first"
        else:
            return None
    except (duckdb.Error, OSError) as exc:
        problem = _short(exc)
    with contextlib.suppress(duckdb.Error):
        con.execute("DETACH store")
    return problem


def _short(exc: Exception) -> str:
    """DuckDB's message without the file's path (the log names the extract instead)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return re.sub(r'"[^"]*"', "the file", text).removeprefix("IO Error: ")


@contextlib.contextmanager
def build_lock(lock_path: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the extract folder's build lock (exclusive, across processes and threads); `waiting()` if another has it.

    The lock file is removed when the lock is let go (while still held), so none is left in the cache
    folder; whoever was waiting on the removed file sees it is gone and locks the one now at the path.
    """
    said = False
    while True:
        fd = os.open(
            lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o600
        )
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not said:
                        waiting()
                        said = True
                    fcntl.flock(fd, fcntl.LOCK_EX)
            if fcntl is None or _same_file(fd, lock_path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        tighten(lock_path)
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()
        os.close(fd)  # lets go of the lock


def _same_file(fd: int, path: Path) -> bool:
    try:
        there = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (held.st_dev, held.st_ino)


def open_database(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    usable: list[str],
    cache: Path,
    progress: Callable[[str], None],
) -> tuple[Path, list[StepTime]]:
    """The extract's database attached to `con` as `store` (built first if need be), and the build's step times.

    Returned held for this process (schemas.cache.hold): the caller releases it when closed.
    """
    steps = build_steps(extract, usable)
    folder_key, version_key = database_key(extract, steps)
    path = cache / f"{folder_key}-{version_key}.duckdb"
    timings: list[StepTime] = []
    hold(path)  # from here no prune in this process removes it
    try:
        problem = database_problem(con, path, steps) if path.exists() else "missing"
        if problem:
            waiting = f"Waiting for another ChildStat process preparing {extract.la_name} for fast questions"
            with build_lock(cache / f"{folder_key}.lock", lambda: progress(waiting)):
                # Whoever held the lock may have just built it.
                problem = database_problem(con, path, steps) if path.exists() else "missing"
                if problem:
                    if path.exists():
                        said = f"The cached copy of {extract.la_name} could not be read ({problem}); building it again"
                        log.warning(said)
                        progress(said)
                        path.unlink()
                    _remove_dead_builds(cache, folder_key)
                    timings = _build(extract, steps, cache, path, folder_key, progress)
                    problem = database_problem(con, path, steps)
                    if problem:
                        raise OSError(f"the database just built cannot be read ({problem})")
        tighten(path)  # made by an older ChildStat, perhaps readable by others
        record_database(path, extract)
    except BaseException:
        release(path)
        raise
    for older in cache.glob(f"{folder_key}-*.duckdb"):  # earlier versions of this extract's files
        if older != path:
            with contextlib.suppress(OSError):  # still open (here or elsewhere): a later prune removes it
                remove_database(older)
    return path, timings


def _remove_dead_builds(cache: Path, folder_key: str) -> None:
    """Under the build lock, any partial build of this extract folder's databases is a dead builder's."""
    for leftover in cache.glob(f"{folder_key}-*.building-*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _previous_sources(con: duckdb.DuckDBPyConnection, cache: Path, folder_key: str, path: Path) -> dict[str, str]:
    """Attach the newest readable earlier version of this extract's database as `previous`: what each of its parts was made from."""
    earlier = [p for p in cache.glob(f"{folder_key}-*.duckdb") if p != path]
    for candidate in sorted(earlier, key=_modified, reverse=True)[:1]:
        try:
            con.execute(f"ATTACH '{setting_text(candidate)}' AS previous (READ_ONLY)")
        except duckdb.Error:
            return {}
        try:
            block_size, blocks = con.execute(
                "SELECT block_size, total_blocks FROM pragma_database_size() WHERE database_name = 'previous'"
            ).fetchone()
            if candidate.stat().st_size >= HEADER_BYTES + blocks * block_size:
                return dict(con.execute(f"SELECT name, source FROM previous.main.{SOURCES}").fetchall())
        except (duckdb.Error, OSError):
            pass
        con.execute("DETACH previous")
    return {}


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile (a prune elsewhere)
        return 0.0


def build_memory_limit() -> str:
    """DuckDB's memory limit while building: $CHILDSTAT_BUILD_MEMORY_LIMIT, else the serving limit.

    More memory barely helps: the national build (before its summaries were rewritten) took 104 s with 8 GB (peak 5.7 GB) against 110 s
    with 1.5 GB (peak 1.7 GB), quiet, so the default keeps a build inside what a serving process uses."""
    return os.environ.get("CHILDSTAT_BUILD_MEMORY_LIMIT") or LARGE_MEMORY_LIMIT


def build_settings() -> dict[str, str]:
    """DuckDB's settings for a build: its memory limit, and as much for DuckDB's own block allocator.

    The block allocator keeps the blocks a build frees for the next step instead of handing them back
    to the system and faulting in fresh zeroed pages: 2 to 4 s (4%) off the national build in 5 of 5
    alternated pairs, for 30 to 50 MB more peak memory. Its memory goes when the build's connection closes.
    """
    limit = build_memory_limit()
    return {"memory_limit": limit, "block_allocator_memory": limit}


def _build(
    extract: Extract, steps: list[Step], cache: Path, path: Path, folder_key: str, progress: Callable[[str], None]
) -> list[StepTime]:
    private_folder(cache)
    building = cache / f"{path.name}.building-{os.getpid()}-{threading.get_ident()}"
    started = time.perf_counter()
    timings: list[StepTime] = []
    about = f"Preparing {extract.la_name} for fast questions"
    try:
        con = duckdb.connect(str(building))
        try:
            tighten(building)  # DuckDB made it with the umask's mode; it holds only a header yet
            with contextlib.suppress(FileExistsError):
                private_empty_file(f"{building}.wal")  # DuckDB logs into it until the CHECKPOINT
            tighten(f"{building}.wal")
            for name, value in build_settings().items():
                con.execute(f"SET {name} = '{setting_text(value)}'")
            con.execute(f"SET temp_directory = '{setting_text(private_folder(cache / 'spill'))}'")
            previous = _previous_sources(con, cache, folder_key, path)
            for step in steps:
                if not step.stored:  # read where it is, by the summaries that need it
                    con.execute(f"CREATE TEMP VIEW {step.name} AS {step.sql}")
            steps = [step for step in steps if step.stored]
            for number, step in enumerate(steps, start=1):
                of = f"({number} of {len(steps)})"
                progress(f"{about}: {step.label} {of}")
                begun = time.perf_counter()
                kept = previous.get(step.name) == step.source
                if kept:
                    try:
                        con.execute(f"CREATE TABLE {step.name} AS SELECT * FROM previous.main.{step.name}")
                    except duckdb.Error:  # the previous copy cannot be read after all: from the source
                        con.execute(f"DROP TABLE IF EXISTS {step.name}")
                        kept = False
                if not kept:
                    # A step that needs an order says ORDER BY; the rest need not keep the files' order,
                    # which lets DuckDB write in parallel. (A kept copy keeps its order: the default.)
                    con.execute("SET preserve_insertion_order = false")
                    con.execute(f"CREATE TABLE {step.name} AS {step.sql}")
                    con.execute("RESET preserve_insertion_order")
                timings.append(StepTime(step.label, time.perf_counter() - begun, "kept" if kept else "read"))
                how = "kept from the previous version" if kept else "done"
                progress(f"{about}: {step.label} {how} in {timings[-1].seconds:.1f} s {of}")
            if previous:
                con.execute("DETACH previous")
            con.execute(f"CREATE TABLE {SOURCES} (name VARCHAR, source VARCHAR)")
            con.executemany(f"INSERT INTO {SOURCES} VALUES (?, ?)", [(s.name, s.source) for s in steps])
            begun = time.perf_counter()
            con.execute("CHECKPOINT")
            timings.append(StepTime("(written to disk)", time.perf_counter() - begun, "read"))
        finally:
            con.close()
        os.replace(building, path)  # atomic: a reader sees the whole database or none
        record_database(path, extract)
    finally:
        for leftover in (building, Path(f"{building}.wal")):
            leftover.unlink(missing_ok=True)
    kept = sum(t.how == "kept" for t in timings)
    again = f", {kept} of {len(steps)} parts kept from the previous version" if kept else ""
    progress(f"Prepared {extract.la_name} in {time.perf_counter() - started:.0f} s{again} ({path})")
    return timings

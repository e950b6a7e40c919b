"""The cached database survives damage, killed builds and several processes starting at once (issue 20).

A cached database that cannot be read is rebuilt (once, said in the log), never fatal; a build killed
midway leaves nothing a later start trips over; two processes starting together on one extract build
it once and both answer; a new version of the files copies what did not change from the previous
database; and every build step is timed in the progress messages.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from queries.database import HEADER_BYTES
from queries.engine import Engine
from schemas.extract import open_extract

ROOT = Path(__file__).resolve().parent.parent


def database_engine(folder, cache, said=None):
    progress = said.append if said is not None else (lambda _: None)
    return Engine(open_extract(folder), storage="database", cache_dir=cache, progress=progress)


def built(folder, cache) -> Path:
    engine = database_engine(folder, cache)
    engine.close()
    return engine.database_path


def leftovers(cache) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if ".building-" in p.name or p.name.endswith(".lock"))


def test_a_healthy_database_is_exactly_as_long_as_its_blocks(tiny_dir, tmp_path):
    """The check for a file cut short rests on DuckDB's layout: header, then whole blocks. Opened again, not rebuilt."""
    path = built(tiny_dir, tmp_path / "cache")
    con = duckdb.connect(str(path), read_only=True)
    block_size, blocks = con.execute("SELECT block_size, total_blocks FROM pragma_database_size()").fetchone()
    con.close()
    assert path.stat().st_size == HEADER_BYTES + blocks * block_size
    said = []
    engine = database_engine(tiny_dir, tmp_path / "cache", said)
    engine.close()
    assert engine.database_path == path and said == [] and engine.build_steps == []


DAMAGE = {
    "cut to half": lambda data: data[: len(data) // 2],
    "cut by one block": lambda data: data[: len(data) - 256 * 1024],
    "emptied": lambda data: b"",
    "overwritten with garbage": lambda data: os.urandom(len(data)),
    "replaced by a short text": lambda data: b"not a database\n" * 10,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_database_is_rebuilt_once_and_said_in_the_log(damage, tiny_dir, tmp_path, caplog):
    cache = tmp_path / "cache"
    path = built(tiny_dir, cache)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    said = []
    with caplog.at_level(logging.WARNING, logger="childstat"):
        engine = database_engine(tiny_dir, cache, said)
    try:
        assert engine.database_path == path
        assert engine.run("open_cases")["open_cases"][0] == 5  # the tiny extract's five open cases
        assert engine.run("caseload_by_worker").height > 0
    finally:
        engine.close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "childstat"]
    assert len(warnings) == 1 and "could not be read" in warnings[0] and "building it again" in warnings[0]
    assert str(cache) not in warnings[0] and "C1" not in warnings[0]  # names the extract, not paths or children
    assert sum(m.startswith("Prepared") for m in said) == 1
    assert said.index(warnings[0]) < said.index(next(m for m in said if m.startswith("Prepared")))
    again = []
    database_engine(tiny_dir, cache, again).close()
    assert again == []  # repaired for good: opened without a word


KILLED_BUILD = """
import os, signal, sys
from queries.engine import Engine
from schemas.extract import open_extract

def progress(message):
    if "(5 of" in message:  # midway through copying the tables
        os.kill(os.getpid(), signal.SIGKILL)

Engine(open_extract(sys.argv[1]), storage="database", cache_dir=sys.argv[2], progress=progress)
"""


def test_a_build_killed_midway_leaves_nothing_a_later_start_trips_over(tiny_dir, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BUILD, str(tiny_dir), str(cache)], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == -9
    left = leftovers(cache)
    assert any(".building-" in name for name in left) and not list(cache.glob("*.duckdb"))
    # Even when the dead builder's process id is in use again (here: this test's parent process).
    for name in left:
        if ".building-" in name:
            stem, _, rest = name.partition(".building-")
            (cache / name).rename(cache / f"{stem}.building-{os.getppid()}-{rest.split('-', 2)[-1]}")
    said = []
    engine = database_engine(tiny_dir, cache, said)
    try:
        assert engine.run("open_cases")["open_cases"][0] == 5
    finally:
        engine.close()
    assert leftovers(cache) == []
    assert [p.name for p in cache.glob("*.duckdb")] == [engine.database_path.name]


# Two server processes starting at once on one extract. The builder, on its first step, waits until
# the other says it is waiting for the lock, so the two really overlap (no sleeping, no timing).
TWO_AT_ONCE = """
import json, sys, time
from pathlib import Path
from queries.engine import Engine
from schemas.extract import open_extract

signals = Path(sys.argv[3])
said = []

def progress(message):
    said.append(message)
    if message.startswith("Waiting"):
        (signals / "waiting").touch()
    if "(1 of" in message and not (signals / "building").exists():
        (signals / "building").touch()
        for _ in range(600):  # at most a minute: then the test fails on 'waited' below
            if (signals / "waiting").exists():
                break
            time.sleep(0.1)

engine = Engine(open_extract(sys.argv[1]), storage="database", cache_dir=sys.argv[2], progress=progress)
print(json.dumps({
    "built": sum(m.startswith("Prepared") for m in said),
    "waited": any(m.startswith("Waiting") for m in said),
    "open_cases": engine.run("open_cases")["open_cases"][0],
    "database": engine.database_path.name,
}))
engine.close()
"""


def test_two_processes_starting_together_build_once_and_both_answer(tiny_dir, tmp_path):
    cache, signals = tmp_path / "cache", tmp_path / "signals"
    signals.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", TWO_AT_ONCE, str(tiny_dir), str(cache), str(signals)]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["built"] for r in results) == [0, 1]  # one build, by one writer
    assert [r["waited"] for r in results if r["built"] == 0] == [True]  # the other waited for it
    assert [r["open_cases"] for r in results] == [5, 5]
    assert results[0]["database"] == results[1]["database"]
    assert leftovers(cache) == [] and len(list(cache.glob("*.duckdb"))) == 1


def rewrite(folder: Path, table: str, keep) -> None:
    frame = pl.read_parquet(folder / f"{table}.parquet")
    frame.filter(keep(frame)).write_parquet(folder / f"{table}.parquet")
    os.utime(folder / f"{table}.parquet", ns=(1, 1))


# What reads factors: the summaries whose SQL names it, and those that read them
# (queries/summaries/: service_episode_strata reads closed_referral_strata).
FACTOR_PARTS = {  # factors itself is not copied (LEFT_IN_PARQUET)
    "summary child_factor_first",
    "summary closed_referral_strata",
    "summary neet_social_care_firsts",
    "summary service_episode_strata",
}


@pytest.mark.parametrize(
    ("table", "read_again", "questions"),
    [
        ("visits", {"visits"}, ["overdue_visits", "compliance_summary", "open_cases"]),
        ("factors", FACTOR_PARTS, ["factor_prevalence", "team_outcomes_by_need", "open_cases", "time_to_close"]),
        # contacts are not copied (LEFT_IN_PARQUET): only the summary made from them is read again
        ("contacts", {"summary contact_next_referral"}, ["front_door_flow", "front_door_timeliness"]),
    ],
)
def test_a_changed_table_rebuilds_only_what_depends_on_it(table, read_again, questions, tiny_dir, tmp_path):
    cache = tmp_path / "cache"
    first = built(tiny_dir, cache)
    rewrite(tiny_dir, table, lambda frame: pl.arange(0, frame.height) > 0)  # one row fewer
    said = []
    engine = database_engine(tiny_dir, cache, said)
    fresh = Engine(open_extract(tiny_dir), storage="views")
    try:
        assert engine.database_path != first and not first.exists()
        steps = {step.label: step.how for step in engine.build_steps if step.label != "(written to disk)"}
        assert {label for label, how in steps.items() if how == "read"} == read_again
        assert len(steps) > 30 and all(how == "kept" for label, how in steps.items() if label not in read_again)
        assert f"{len(steps) - len(read_again)} of {len(steps)} parts kept" in said[-1]
        for name in questions:
            params = {"team_id": "T2"} if name == "factor_prevalence" else {}  # a cohort question needs a filter
            assert engine.run(name, **params).equals(fresh.run(name, **params)), name
    finally:
        engine.close()
        fresh.close()


def test_every_build_step_is_timed_in_the_progress_messages(tiny_dir, tmp_path):
    said = []
    engine = database_engine(tiny_dir, tmp_path / "cache", said)
    engine.close()
    starts = [m for m in said if m.startswith("Preparing") and " in " not in m]
    finished = [m for m in said if m.startswith("Preparing") and " done in " in m]
    assert len(starts) == len(finished) == len(engine.build_steps) - 1 > 30  # and the write to disk
    for start, end in zip(starts, finished, strict=True):
        label = start.split(": ", 1)[1].rsplit(" (", 1)[0]
        assert end.split(": ", 1)[1].startswith(f"{label} done in ") and end.endswith(start[start.rindex("(") :])
    assert [s.label for s in engine.build_steps[:3]] == ["children", "teams", "workers"]
    assert all(s.seconds >= 0 and s.how == "read" for s in engine.build_steps)
    assert said[-1].startswith("Prepared") and "kept" not in said[-1]


def test_the_build_memory_limit_is_the_serving_limit_unless_set(monkeypatch):
    from queries import database

    monkeypatch.delenv("CHILDSTAT_BUILD_MEMORY_LIMIT", raising=False)
    assert database.build_memory_limit() == database.LARGE_MEMORY_LIMIT == "1.5GB"
    assert database.build_settings() == {"memory_limit": "1.5GB", "block_allocator_memory": "1.5GB"}
    monkeypatch.setenv("CHILDSTAT_BUILD_MEMORY_LIMIT", "6GB")
    assert database.build_memory_limit() == "6GB"
    assert database.build_settings() == {"memory_limit": "6GB", "block_allocator_memory": "6GB"}


def test_tables_left_in_the_parquet_are_read_by_no_other_question():
    """LEFT_IN_PARQUET saves copying tables questions do not read, or read only by a quick filtered scan: a
    question, macro or page not named there that reads one fails here (measure it, then name it or copy the table)."""
    from queries.database import LEFT_IN_PARQUET

    readers = [ROOT / "queries" / part for part in ("sql", "macros", "models")]
    readers += [ROOT / "pages", ROOT / "reports", ROOT / "workbench"]
    files = [path for folder in readers for path in folder.rglob("*.[ps][yq]*")]
    assert len(files) > 50
    for table, allowed in sorted(LEFT_IN_PARQUET.items()):
        named = re.compile(rf"\b(FROM|JOIN)\s+{table}\b|\b{table}\s+AS\s", re.IGNORECASE)
        found = {str(path.relative_to(ROOT)) for path in files if named.search(path.read_text())}
        assert found == set(allowed), table
    # the check finds a reader: the summaries do read them
    summary = (ROOT / "queries" / "summaries" / "contact_next_referral.sql").read_text()
    assert re.search(r"\bFROM\s+contacts\b", summary)


def test_a_table_left_in_the_parquet_is_not_in_the_database_and_still_answers(tiny_dir, tmp_path):
    from queries.database import LEFT_IN_PARQUET

    engine = database_engine(tiny_dir, tmp_path / "cache")
    try:
        stored = {
            row[0]
            for row in engine.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'store'"
            ).fetchall()
        }
        assert LEFT_IN_PARQUET and not set(LEFT_IN_PARQUET) & stored
        assert {"contact_next_referral", "neet_school_years", "child_factor_first", "referrals"} <= stored
        assert all(s.label not in LEFT_IN_PARQUET for s in engine.build_steps)
        for table in LEFT_IN_PARQUET:  # the engine's view reads the Parquet
            rows = engine.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert rows == pl.read_parquet(tiny_dir / f"{table}.parquet").height > 0, table
    finally:
        engine.close()


def test_columns_not_copied_are_read_by_no_question():
    """NOT_COPIED leaves out columns no question reads: a question, macro, summary, page, report or workbench
    file naming one fails here (copy it again, and measure the build, before reading it)."""
    from queries.database import NOT_COPIED

    readers = [ROOT / "queries" / part for part in ("sql", "macros", "models", "summaries")]
    readers += [ROOT / "pages", ROOT / "reports", ROOT / "workbench"]
    files = [path for folder in readers for path in folder.rglob("*.[ps][yq]*")]
    assert len(files) > 50
    assert NOT_COPIED  # else the loop below checks nothing
    for table, columns in NOT_COPIED.items():
        for column in columns:
            named = re.compile(rf"\b{column}\b")
            readers_found = [str(path.relative_to(ROOT)) for path in files if named.search(path.read_text())]
            assert not readers_found, f"{table}.{column} is read by {readers_found}"
    # the check finds a reader of a column that is read
    assert any(re.search(r"\bvisit_date\b", path.read_text()) for path in files)


def test_a_column_not_copied_is_in_neither_the_database_nor_the_view_and_questions_still_answer(tiny_dir, tmp_path):
    engine = database_engine(tiny_dir, tmp_path / "cache")
    fresh = Engine(open_extract(tiny_dir), storage="views")
    try:
        stored = [r[0] for r in engine.con.execute("DESCRIBE store.main.visits").fetchall()]
        assert stored == ["child_id", "worker_id", "visit_date", "visit_type", "seen_alone"]
        assert [r[0] for r in engine.con.execute("DESCRIBE visits").fetchall()] == stored
        assert "visit_id" in [r[0] for r in fresh.con.execute("DESCRIBE visits").fetchall()]  # the Parquet has it
        visits = pl.read_parquet(tiny_dir / "visits.parquet")
        assert engine.con.execute("SELECT count(*) FROM visits").fetchone()[0] == visits.height > 0
        for name in ["overdue_visits", "compliance_summary", "due_soon", "child_chronology"]:
            params = {"child_id": visits["child_id"][0]} if name == "child_chronology" else {}
            assert engine.run(name, **params).equals(fresh.run(name, **params)), name
    finally:
        engine.close()
        fresh.close()

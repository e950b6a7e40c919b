"""The per-extract database cache: same answers as Parquet, rebuilt when a file changes, never in the extract."""

from __future__ import annotations

import os

import pytest

from queries.engine import Engine
from queries.models.patterns import COHORT_QUERIES
from queries.registry import all_queries
from schemas.extract import open_extract


def files_and_times(folder):
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_database_and_parquet_views_give_identical_answers(tiny_dir, tmp_path):
    cache = tmp_path / "cache"
    in_database = Engine(open_extract(tiny_dir), storage="database", cache_dir=cache, progress=lambda _: None)
    in_place = Engine(open_extract(tiny_dir), storage="views")
    required = {"child_id": "C2", "team_id": "T2"}
    try:
        assert in_database.database_path.parent == cache.resolve()
        for query in all_queries().values():
            params = {p.name: required[p.name] for p in query.params if p.default == "required"}
            if query.name in COHORT_QUERIES:
                params["team_id"] = "T2"
            assert in_database.run(query.name, **params).equals(in_place.run(query.name, **params)), query.name
    finally:
        in_database.close()
        in_place.close()


def test_database_is_built_once_rebuilt_when_a_file_changes_and_never_written_into_the_extract(tiny_dir, tmp_path):
    import polars as pl

    cache = tmp_path / "cache"
    before = files_and_times(tiny_dir)
    said = []
    first = Engine(open_extract(tiny_dir), storage="database", cache_dir=cache, progress=said.append)
    path = first.database_path
    assert first.run("open_cases")["open_cases"][0] == 5
    first.close()
    assert said and "Prepared" in said[-1]
    assert files_and_times(tiny_dir) == before  # nothing written, nothing touched

    said.clear()
    again = Engine(open_extract(tiny_dir), storage="database", cache_dir=cache, progress=said.append)
    assert again.database_path == path and not said  # opened, not rebuilt
    again.close()

    # A changed file: a new database, with the new data; the old one is removed.
    referrals = pl.read_parquet(tiny_dir / "referrals.parquet")
    referrals.filter(pl.col("child_id") != "C1").write_parquet(tiny_dir / "referrals.parquet")
    os.utime(tiny_dir / "referrals.parquet", ns=(1, 1))
    changed = Engine(open_extract(tiny_dir), storage="database", cache_dir=cache, progress=said.append)
    try:
        assert changed.database_path != path and said
        assert not path.exists()
        fresh = Engine(open_extract(tiny_dir), storage="views")
        assert changed.run("open_cases").equals(fresh.run("open_cases"))
        fresh.close()
    finally:
        changed.close()
    assert sorted(p.name for p in cache.glob("*.duckdb")) == [changed.database_path.name]
    assert not [p for p in tiny_dir.rglob("*") if p.suffix in (".duckdb", ".wal", ".tmp")]


def test_cache_folder_inside_the_extract_is_refused(tiny_dir):
    with pytest.raises(ValueError, match="inside the extract"):
        Engine(open_extract(tiny_dir), storage="database", cache_dir=tiny_dir / "cache")
    assert not (tiny_dir / "cache").exists()


def test_a_large_extract_gets_a_memory_limit_and_the_database(tiny_dir, tmp_path, monkeypatch):
    import queries.engine as engine_module

    monkeypatch.setattr(engine_module, "MATERIALISE_BYTES", 10)  # the tiny extract counts as large
    monkeypatch.setenv("CHILDSTAT_CACHE", str(tmp_path / "cache"))
    engine = Engine(open_extract(tiny_dir), progress=lambda _: None)
    try:
        assert engine.storage == "database"
        limit = engine.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        assert limit.replace(" ", "") in ("1.3GiB", "1.4GiB", "1.5GB", "1.5GiB")
        assert engine.con.execute("SELECT current_setting('threads')").fetchall()[0][0] == (os.cpu_count() or 1)
        spill = engine.con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
        assert spill.startswith(str((tmp_path / "cache").resolve()))
    finally:
        engine.close()
    small = Engine(open_extract(tiny_dir), materialise=True)
    assert small.storage == "memory" and small.database_path is None
    small.close()


def test_without_a_usable_cache_folder_a_large_extract_is_read_in_place(tiny_dir, tmp_path, monkeypatch):
    import queries.engine as engine_module

    monkeypatch.setattr(engine_module, "MATERIALISE_BYTES", 10)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    said = []
    engine = Engine(open_extract(tiny_dir), cache_dir=blocked / "cache", progress=said.append)
    try:
        assert engine.storage == "views" and engine.database_path is None
        assert said and "reading the Parquet directly" in said[-1]
        assert engine.run("open_cases")["open_cases"][0] == 5
    finally:
        engine.close()

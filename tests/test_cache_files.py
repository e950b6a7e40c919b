"""What ChildStat writes in its cache folder is private (0700 folders, 0600 files), and pruned.

The umask is 0 in these tests, so every mode below comes from ChildStat itself, not the umask.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time

import polars as pl
import pytest

import schemas.cache as cache_module
import schemas.validate as validate
from queries import settings
from queries.engine import Engine
from schemas.cache import private_append, prune, sidecar
from schemas.extract import open_extract
from schemas.validate import cached_report
from tiny_extract import write_extract


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def modes(folder) -> dict[str, int]:
    return {p.name: mode(p) for p in sorted(folder.iterdir())}


@pytest.fixture(autouse=True)
def open_umask():
    old = os.umask(0)  # files made without an explicit mode would be 0666, folders 0777
    yield
    os.umask(old)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("CHILDSTAT_CACHE", str(folder))
    monkeypatch.setattr(validate, "CACHE_MIN_BYTES", 0)  # the tiny extract's report is cached too
    return folder


@pytest.fixture
def cache_limit(tmp_path, monkeypatch):
    """Set the max_cache_gb setting (through a settings file, as a council would)."""

    def set_limit(gb: float) -> None:
        file = tmp_path / "settings.toml"
        file.write_text(f"[cache]\nmax_cache_gb = {gb!r}\n")
        monkeypatch.setenv("CHILDSTAT_SETTINGS", str(file))
        settings.load_settings.cache_clear()

    yield set_limit
    settings.load_settings.cache_clear()


def open_database(folder, cache):
    return Engine(open_extract(folder), storage="database", cache_dir=cache, progress=lambda _: None)


def built(folder, cache):
    """Build the extract's database and close it; its path."""
    engine = open_database(folder, cache)
    engine.close()
    return engine.database_path


def test_database_storage_makes_the_folder_0700_and_every_file_0600_from_the_start(tiny_dir, cache):
    seen_while_building = []

    def look(message):
        if "(" in message and " of " in message:  # a table being copied: the .building file is there
            seen_while_building.append(modes(cache))

    engine = Engine(open_extract(tiny_dir), storage="database", cache_dir=cache, progress=look)
    try:
        database = engine.database_path
        assert mode(cache) == 0o700
        assert modes(cache) == {database.name: 0o600, sidecar(database).name: 0o600, "spill": 0o700}
        assert json.loads(sidecar(database).read_text())["extract"] == str(tiny_dir)
    finally:
        engine.close()
    assert seen_while_building
    for seen in seen_while_building:  # the database being built and its log: 0600 while tables go in
        building = sorted(name for name in seen if ".building-" in name)
        assert len(building) == 2 and building[1] == building[0] + ".wal"
        lock = database.name.split("-")[0] + ".lock"  # the build lock, removed when the build is done
        assert seen == {**dict.fromkeys(building, 0o600), lock: 0o600, "spill": 0o700}


def test_an_existing_cache_folder_and_database_are_tightened_when_opened(tiny_dir, cache):
    database = built(tiny_dir, cache)
    os.chmod(cache, 0o755)
    os.chmod(cache / "spill", 0o777)
    os.chmod(database, 0o644)
    sidecar(database).unlink()  # as an older ChildStat left it: no sidecar
    engine = open_database(tiny_dir, cache)
    engine.close()
    assert engine.database_path == database
    assert mode(cache) == 0o700
    assert modes(cache) == {database.name: 0o600, sidecar(database).name: 0o600, "spill": 0o700}


def test_a_shared_folder_is_never_used_or_changed(tiny_dir, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp
    with pytest.raises(PermissionError, match="shared"):
        open_database(tiny_dir, shared)
    assert mode(shared) == 0o1777 and not list(shared.iterdir())


def test_the_cached_validation_report_is_0600_in_a_0700_folder(tiny_dir, cache):
    report = cached_report(open_extract(tiny_dir))
    [saved] = cache.glob("validation-*.json")
    assert mode(cache) == 0o700
    assert modes(cache) == {saved.name: 0o600, "spill": 0o700}
    assert json.loads(saved.read_text())["source"]["extract"] == str(tiny_dir)

    os.chmod(cache, 0o755)
    os.chmod(saved, 0o644)
    assert cached_report(open_extract(tiny_dir)) == report  # read from the cache, and tightened
    assert mode(cache) == 0o700 and modes(cache) == {saved.name: 0o600, "spill": 0o700}


def test_copies_of_a_deleted_or_changed_extract_are_removed_on_the_next_open(tmp_path, cache):
    gone, changed, opened = (write_extract(tmp_path / name) for name in ("gone", "changed", "opened"))
    gone_database, changed_database = built(gone, cache), built(changed, cache)
    cached_report(open_extract(gone))
    [gone_report] = cache.glob("validation-*.json")
    shutil.rmtree(gone)
    referrals = pl.read_parquet(changed / "referrals.parquet")
    referrals.head(3).write_parquet(changed / "referrals.parquet")

    engine = open_database(opened, cache)
    engine.close()
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [engine.database_path.name, sidecar(engine.database_path).name, "spill"]
    )
    assert not gone_database.exists() and not changed_database.exists() and not gone_report.exists()


def test_after_a_symlink_refresh_the_old_extracts_database_is_removed(tmp_path, cache):
    """docs/deploy.md's refresh: the app reads a symlink, switched to a fresh folder."""
    old, new, link = write_extract(tmp_path / "old"), write_extract(tmp_path / "new"), tmp_path / "extract"
    link.symlink_to(old)
    old_database = built(link, cache)
    link.unlink()
    link.symlink_to(new)
    new_database = built(link, cache)
    assert new_database != old_database and not old_database.exists() and old.exists()
    assert sorted(cache.glob("*.duckdb")) == [new_database]


def test_the_size_limit_removes_the_least_recently_used_first(tmp_path, cache, cache_limit):
    a, b, c = (write_extract(tmp_path / name) for name in "abc")
    a_database, b_database = built(a, cache), built(b, cache)
    time.sleep(0.01)
    assert built(a, cache) == a_database  # opened again: now b is the least recently used
    assert sidecar(b_database).stat().st_mtime < sidecar(a_database).stat().st_mtime
    one = a_database.stat().st_size + sidecar(a_database).stat().st_size
    cache_limit(2.5 * one / 10**9)  # room for two databases, not three

    c_database = built(c, cache)
    assert not b_database.exists() and not sidecar(b_database).exists()
    assert a_database.exists() and c_database.exists()


def test_the_size_limit_never_removes_the_database_being_opened_or_one_held_open(tmp_path, cache, cache_limit):
    a, b, c = (write_extract(tmp_path / name) for name in "abc")
    held = open_database(a, cache)  # this process still reads it
    b_database = built(b, cache)
    try:
        cache_limit(1e-9)  # one byte: everything else goes
        opened = open_database(c, cache)
        opened.close()
        assert held.database_path.exists() and opened.database_path.exists()
        assert not b_database.exists()
        assert held.run("open_cases")["open_cases"][0] == 5
    finally:
        held.close()
    built(c, cache)  # once closed, it may go
    assert not held.database_path.exists()


def test_a_database_another_process_has_open_is_not_removed(tmp_path, cache, cache_limit):
    a, b = write_extract(tmp_path / "a"), write_extract(tmp_path / "b")
    a_database = built(a, cache)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(); "
            f"con.execute(\"ATTACH '{a_database}' AS store (READ_ONLY)\"); print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        cache_limit(1e-9)
        built(b, cache)
        assert a_database.exists()
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    built(b, cache)
    assert not a_database.exists()


def test_prune_tolerates_files_that_vanish_and_removes_dead_builders_leftovers(tmp_path, cache, monkeypatch):
    a, b = write_extract(tmp_path / "a"), write_extract(tmp_path / "b")
    a_database, b_database = built(a, cache), built(b, cache)
    dead = cache / f"{a_database.name}.building-{2**22 + 1}-1"  # above Linux's largest process id
    dead.write_bytes(b"half a database")
    mine = cache / f"{a_database.name}.building-{os.getpid()}-1"
    mine.write_bytes(b"being built")
    real_listing = cache_module._listing

    def listing_then_vanish(folder):
        entries = real_listing(folder)
        a_database.unlink(missing_ok=True)  # removed by another process while this one looks
        return entries

    monkeypatch.setattr(cache_module, "_listing", listing_then_vanish)
    assert prune(cache, keep={b_database}, max_bytes=1) == []
    assert b_database.exists() and not dead.exists() and mine.exists()


def test_private_append_makes_the_log_0600_and_its_new_folder_0700(tmp_path):
    log = tmp_path / "logs" / "audit.jsonl"
    private_append(log, '{"event": "page"}')
    private_append(log, '{"event": "query"}\n')
    assert mode(log.parent) == 0o700 and mode(log) == 0o600
    assert log.read_text() == '{"event": "page"}\n{"event": "query"}\n'
    os.chmod(log, 0o644)
    private_append(log, "third")
    assert mode(log) == 0o600 and log.read_text().splitlines()[-1] == "third"

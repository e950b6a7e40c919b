"""Shared fixtures: tiny extracts written to temporary folders, and the shipped sample."""

from __future__ import annotations

import os

import pytest

# One fixed cell-key secret, so protected figures (and the attack tests' results) are the same on every machine.
os.environ.setdefault("CHILDSTAT_CELL_KEY", "childstat-tests-cell-key")

from queries.engine import Engine
from schemas.extract import SAMPLE_DATA, open_extract
from tiny_extract import tiny_tables, write_extract

pytest_plugins = ["workbench_fixtures"]  # the workspace fixtures (SQLite and PostgreSQL) of the workbench tests


@pytest.fixture
def tiny_dir(tmp_path):
    """A fresh copy of the tiny valid extract."""
    return write_extract(tmp_path / "tiny")


@pytest.fixture
def tiny_engine(tiny_dir):
    engine = Engine(open_extract(tiny_dir))
    yield engine
    engine.close()


@pytest.fixture
def make_engine(tmp_path):
    """Build an engine over the tiny extract after changing its tables: make_engine(edit, manifest=...)."""
    engines = []

    def build(edit=None, drop=(), **write_kwargs):
        tables = tiny_tables()
        if edit:
            tables = edit(tables) or tables
        folder = write_extract(tmp_path / f"x{len(engines)}", tables, drop=drop, **write_kwargs)
        engine = Engine(open_extract(folder))
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.close()


@pytest.fixture(scope="session")
def sample_engine():
    engine = Engine(open_extract(SAMPLE_DATA))
    yield engine
    engine.close()


@pytest.fixture(autouse=True)
def _mode_from_the_test_only(monkeypatch):
    """Hosted mode and the audit key come from each test, never from the shell that runs pytest."""
    for name in ("CHILDSTAT_MODE", "CHILDSTAT_AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)

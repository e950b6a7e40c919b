"""Fixtures for the workbench tests: a workspace on SQLite or on PostgreSQL, and a cohort to audit.

PostgreSQL: each test gets a database of its own on the server named by CHILDSTAT_TEST_POSTGRES_URL
(.ci/run starts one). Without it the PostgreSQL tests are skipped on a developer's machine, but
fail under CI (CHILDSTAT_CI set), so a CI run that lost its server cannot pass as green.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy.engine import make_url

from helpers import referral, rows_frame

BACKENDS = ["sqlite", "postgres"]


def postgres_server_url() -> str:
    url = os.environ.get("CHILDSTAT_TEST_POSTGRES_URL", "").strip()
    if not url:
        if os.environ.get("CHILDSTAT_CI"):
            pytest.fail("CHILDSTAT_TEST_POSTGRES_URL is not set: .ci/run starts PostgreSQL for these tests")
        pytest.skip("no PostgreSQL server: set CHILDSTAT_TEST_POSTGRES_URL (.ci/postgres.sh starts one)")
    return url


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    import psycopg

    server = postgres_server_url()
    name = f"childstat_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def workspace_location(request, tmp_path):
    """A workspace location on each backend: a SQLite file path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "workspace" / "workspace.sqlite")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def workspace(workspace_location):
    from workbench.workspace import open_workspace

    engine = open_workspace(workspace_location)
    yield engine
    engine.dispose()


def forty_children(tables):
    """An edit for make_engine: 40 children, C01–C30 referred to team T1 (odd numbers girls), C31–C40 to T2.

    So team T1's cohort is 30 children, 15 girls and 15 boys; T2's is 10 (5 and 5).
    """
    children = [
        {"child_id": f"C{i:02d}", "sex": "F" if i % 2 else "M", "birth_date": "2015-01-01", "ethnicity": "WBRI"}
        for i in range(1, 41)
    ]
    referrals = [
        referral(f"R{i:02d}", f"C{i:02d}", "2025-06-01", team="T1" if i <= 30 else "T2", worker="W1")
        for i in range(1, 41)
    ]
    tables["children"] = rows_frame("children", children)
    tables["referrals"] = rows_frame("referrals", referrals)
    return tables


@pytest.fixture(scope="session", autouse=True)
def _workspace_in_a_temporary_folder(tmp_path_factory):
    """Every test (pages, the browser test's app) gets a throwaway workspace, never the user's own."""
    before = os.environ.get("CHILDSTAT_WORKSPACE")
    os.environ["CHILDSTAT_WORKSPACE"] = str(tmp_path_factory.mktemp("workspace") / "workspace.sqlite")
    yield
    if before is None:
        os.environ.pop("CHILDSTAT_WORKSPACE", None)
    else:
        os.environ["CHILDSTAT_WORKSPACE"] = before

"""The workspace database: where it is, private, migrated on open, and a hosted instance fails closed."""

from __future__ import annotations

import stat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from workbench.tables import metadata
from workbench.workspace import WorkspaceError, database_url, open_workspace, workspace_url


@pytest.fixture(autouse=True)
def _no_workspace_from_the_shell(monkeypatch, tmp_path):
    monkeypatch.delenv("CHILDSTAT_WORKSPACE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.setenv("CHILDSTAT_SETTINGS", str(tmp_path / "no-settings.toml"))


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_workspace_is_a_private_sqlite_file_in_the_users_data_folder(tmp_path):
    url = workspace_url()
    file = tmp_path / "data-home" / "childstat" / "workspace.sqlite"
    assert url == f"sqlite:///{file}"
    assert mode(file) == 0o600 and mode(file.parent) == 0o700


def test_the_argument_then_the_environment_then_the_settings_name_it(tmp_path, monkeypatch):
    from queries.settings import load_settings

    settings = tmp_path / "settings.toml"
    settings.write_text(f'[workspace]\nworkspace_database = "{tmp_path / "from-settings.sqlite"}"\n')
    monkeypatch.setenv("CHILDSTAT_SETTINGS", str(settings))
    load_settings.cache_clear()
    try:
        assert workspace_url().endswith("from-settings.sqlite")
        monkeypatch.setenv("CHILDSTAT_WORKSPACE", str(tmp_path / "from-env.sqlite"))
        assert workspace_url().endswith("from-env.sqlite")
        assert workspace_url(tmp_path / "given.sqlite").endswith("given.sqlite")
    finally:
        load_settings.cache_clear()


def test_an_existing_readable_file_is_tightened_and_its_folder_left_alone(tmp_path):
    file = tmp_path / "shared" / "ws.sqlite"
    file.parent.mkdir(mode=0o755)
    file.parent.chmod(0o755)
    file.write_bytes(b"")
    file.chmod(0o644)
    workspace_url(file)
    assert mode(file) == 0o600 and mode(file.parent) == 0o755


def test_postgresql_urls_use_psycopg_3():
    given = "postgresql://analyst:secret@db.example/childstat"
    assert database_url(given, "x") == "postgresql+psycopg://analyst:secret@db.example/childstat"
    assert database_url("postgres://db.example/c", "x") == "postgresql+psycopg://db.example/c"


def test_another_kind_of_database_is_refused_naming_the_setting():
    with pytest.raises(WorkspaceError, match="CHILDSTAT_WORKSPACE names a 'mysql' database"):
        database_url("mysql://db.example/c", "CHILDSTAT_WORKSPACE")


def test_a_hosted_instance_without_a_named_workspace_opens_none(monkeypatch, tmp_path):
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    with pytest.raises(WorkspaceError, match="hosted instance needs its workspace named"):
        open_workspace()
    assert not (tmp_path / "data-home").exists()  # no local file made in its place


def test_a_broken_mode_counts_as_hosted(monkeypatch):
    monkeypatch.setenv("CHILDSTAT_MODE", "hostd")
    with pytest.raises(WorkspaceError, match="hosted instance"):
        open_workspace()


def test_a_hosted_instance_with_an_unreachable_database_fails_without_falling_back(monkeypatch, tmp_path):
    monkeypatch.setenv("CHILDSTAT_MODE", "hosted")
    monkeypatch.setenv("CHILDSTAT_WORKSPACE", f"postgresql://nobody:hunter2@/none?host={tmp_path}&port=1")
    with pytest.raises(WorkspaceError, match="PostgreSQL database cannot be opened") as refused:
        open_workspace()
    assert "hunter2" not in str(refused.value)
    monkeypatch.setenv("CHILDSTAT_WORKSPACE", "mysql://db.example/c")
    with pytest.raises(WorkspaceError, match="mysql"):
        open_workspace()
    assert not (tmp_path / "data-home").exists()


def test_a_folder_is_not_a_workspace_file(tmp_path):
    with pytest.raises(WorkspaceError, match="is a folder"):
        open_workspace(tmp_path)


def test_opening_migrates_to_the_tables_the_code_expects(workspace):
    """`upgrade head` ran, and the migrations build exactly workbench/tables.py's schema (nothing to autogenerate)."""
    assert {
        "audits",
        "audit_questions",
        "audit_strata",
        "audit_samples",
        "audit_answers",
        "hypotheses",
        "hypothesis_results",
    } <= set(inspect(workspace).get_table_names())
    with workspace.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def test_opening_again_keeps_what_is_there(workspace_location):
    first = open_workspace(workspace_location)
    with first.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audits (name, cohort, sample_size, seed, as_of, extract_name, created_by, created_at) "
                "VALUES ('kept', '{}', 1, 1, '2026-03-31', 'x', 'y', '2026-04-01 10:00:00')"
            )
        )
    first.dispose()
    again = open_workspace(workspace_location)
    with again.connect() as connection:
        assert connection.execute(text("SELECT name FROM audits")).scalars().all() == ["kept"]
    again.dispose()

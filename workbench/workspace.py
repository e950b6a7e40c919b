"""Opening the workspace database: where it is, made private, migrated to the latest schema.

Where (first that is set): the `workspace=` argument (the command line's `--workspace`), then
$CHILDSTAT_WORKSPACE, then settings `[workspace] workspace_database`; else, in local mode only, a
SQLite file in the user's data folder ($XDG_DATA_HOME/childstat, else ~/.local/share/childstat).

- a file path: SQLite. The file is made 0600 before SQLite opens it, and missing folders 0700
  (schemas/cache.py); an existing file is tightened to 0600. Every transaction is BEGIN IMMEDIATE
  with a busy timeout, so two reviewers writing at once wait for each other instead of failing.
- a `postgresql://` (or `postgresql+psycopg://`) URL: PostgreSQL through psycopg 3.

A hosted instance fails closed: without a workspace named explicitly, with a setting that is not a
path or a PostgreSQL URL, or with a database that cannot be reached or migrated, `open_workspace`
raises WorkspaceError and no workspace is opened; it never falls back to a local file. Opening runs
the Alembic migrations in workbench/migrations/ (`upgrade head`), so a newer ChildStat upgrades an
older workspace by itself. The error messages name the setting, never a password.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from queries.settings import SettingsError, setting
from schemas.cache import private_empty_file, private_folder, tighten

WORKSPACE_ENV = "CHILDSTAT_WORKSPACE"
MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_NAME = "workspace.sqlite"
BUSY_TIMEOUT_MS = 30_000
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


class WorkspaceError(Exception):
    """The workspace cannot be opened; the message is safe to show (it names settings, not secrets)."""


def hosted_mode() -> bool:
    """Whether this instance is hosted; a mode that cannot be read counts as hosted (fail closed)."""
    from pages._hosting import requested_mode  # reads the environment and settings only, not Streamlit

    mode, problem = requested_mode()
    return mode == "hosted" or problem is not None


def default_location() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data).expanduser() / "childstat" / SQLITE_NAME


def configured_location(workspace: str | os.PathLike | None = None) -> tuple[str | None, str]:
    """(the location as given, or None for none given; which setting gave it)."""
    if workspace not in (None, ""):
        return str(workspace), "--workspace"
    if os.environ.get(WORKSPACE_ENV, "").strip():
        return os.environ[WORKSPACE_ENV].strip(), WORKSPACE_ENV
    try:
        configured = setting("workspace_database").strip()
    except SettingsError as exc:
        raise WorkspaceError(f"the workspace setting cannot be read: {exc}") from None
    return (configured or None), "settings [workspace] workspace_database"


def database_url(location: str, source: str) -> str:
    """A SQLAlchemy URL for a location: a PostgreSQL URL made to use psycopg 3, or a SQLite file."""
    if "://" not in location:
        return f"sqlite:///{Path(location).expanduser().resolve()}"
    try:
        url = make_url(location)
    except ArgumentError:
        raise WorkspaceError(f"{source} is not a file path or a PostgreSQL URL") from None
    if url.drivername not in POSTGRES_SCHEMES:
        raise WorkspaceError(
            f"{source} names a {url.drivername.split('+')[0]!r} database; the workspace is a SQLite file "
            "(give a file path) or PostgreSQL (a postgresql:// URL)"
        )
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def workspace_url(workspace: str | os.PathLike | None = None) -> str:
    """The workspace's SQLAlchemy URL, its SQLite file made private; WorkspaceError when it cannot be had."""
    location, source = configured_location(workspace)
    if location is None:
        if hosted_mode():
            raise WorkspaceError(
                f"a hosted instance needs its workspace named: set {WORKSPACE_ENV} or [workspace] workspace_database "
                "(a postgresql:// URL for several analysts); no local file is used in its place"
            )
        location, source = str(default_location()), "the default workspace"
    url = database_url(location, source)
    if url.startswith("sqlite:"):
        prepare_sqlite_file(Path(url.removeprefix("sqlite:///")), source)
    return url


def prepare_sqlite_file(path: Path, source: str) -> None:
    """The SQLite file exists and is 0600 before SQLite opens it; missing folders made 0700."""
    try:
        if not path.parent.exists():
            private_folder(path.parent)
        if path.is_dir():
            raise WorkspaceError(f"{source} is a folder; give the workspace's file name (e.g. {SQLITE_NAME})")
        if not path.exists():
            with contextlib.suppress(FileExistsError):  # made by another process meanwhile
                private_empty_file(path)
        tighten(path)
    except OSError as exc:
        raise WorkspaceError(f"the workspace file named by {source} cannot be made private ({exc.strerror})") from None


def _sqlite_transactions(engine: Engine) -> None:
    """Every SQLite transaction BEGIN IMMEDIATE, waiting up to BUSY_TIMEOUT_MS for another writer.

    A deferred transaction that reads and then writes fails at once (SQLITE_BUSY) when another
    connection wrote meanwhile; taking the write lock at BEGIN makes concurrent writers queue instead.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not the driver's own
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_workspace(workspace: str | os.PathLike | None = None) -> Engine:
    """The workspace's SQLAlchemy engine, migrated to the latest schema (`alembic upgrade head`)."""
    url = workspace_url(workspace)
    if url.startswith("sqlite:"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _sqlite_transactions(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    try:
        migrate(engine)
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        kind = "SQLite file" if url.startswith("sqlite:") else "PostgreSQL database"
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        raise WorkspaceError(f"the workspace {kind} cannot be opened ({type(exc).__name__}: {reason})") from None
    return engine


_migrating = threading.Lock()  # Alembic's `context` is one global per process: one migration at a time


def migrate(engine: Engine) -> None:
    """Bring the workspace to the newest schema in workbench/migrations/ (nothing to do when it is)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _migrating, engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()

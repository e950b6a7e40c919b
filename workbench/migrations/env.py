"""Alembic's environment for the workspace: run on the connection workbench/workspace.py hands over.

Migrations run inside one transaction. On PostgreSQL an advisory lock makes a second process that
opens the workspace at the same moment wait for the first's migration instead of repeating it; on
SQLite the transaction is BEGIN IMMEDIATE (workspace.py), which does the same.
"""

from alembic import context

from workbench.tables import metadata

MIGRATION_LOCK = 7_318_500_118  # any fixed number: the advisory lock only workspace migrations take

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    context.run_migrations()

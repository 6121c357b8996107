"""What ``env.py`` runs: one project's migrations, online or as SQL (``--sql``).

The project comes from the configuration :func:`.revisions.alembic_config` made (or
``medallion_project`` in ``alembic.ini``); the connection from the build's settings
(PGHOST/PGPORT/PGUSER, DATABASE_URL or the embedded server, never a password on the
command line). Online, each revision runs in its own transaction while a lock held for
the whole run keeps a second ``upgrade`` of the same database waiting.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Connection, MetaData, text

from src._base.build.discovery import load_projects
from src._base.build.project import LoadedProject, warehouse_database
from src._base.build.tables import project_tables
from src._base.functions.system_time import FRAMEWORK_SCHEMA
from src._base.migrations import operations  # noqa: F401  (registers op.<versioning>)
from src._base.migrations.autogenerate import (
    Versioning,
    allowed_losses,
    include_name,
    include_object,
)
from src._base.migrations.revisions import VERSION_TABLE, recorded_project
from src.config import ConnectionSettings, load_settings
from src.utils.connections import create_db_engine, ensure_server
from src.utils.errors import ConfigError
from src.utils.log import configure_logging

log = logging.getLogger(__name__)

# The advisory lock a migration holds on its database for its whole run.
MIGRATION_LOCK = "hashtext('medallion.migrations')"


def project_metadata(project: LoadedProject) -> MetaData:
    """A MetaData holding only ``project``'s tables (other projects' stay out), and each
    tenant's copies of them: a migration changes every tenant's tables with the project's."""
    metadata = MetaData()
    for _, table in project_tables(project):
        table.to_metadata(metadata)
    return metadata


def run(context: Any) -> None:
    config = context.config
    project: LoadedProject | None = config.attributes.get("project")
    settings = config.attributes.get("settings")
    if settings is None:  # alembic's own command line: this is the entry point
        settings = load_settings()
        configure_logging(settings.log_level)
    if project is None:
        name = config.get_main_option("medallion_project")
        if not name:
            raise ConfigError(
                "alembic.ini names no project: set medallion_project = <project> in its "
                "section, or run scripts/migrate.py <project> <command>."
            )
        [project] = load_projects(settings.src_path, name)
    metadata = project_metadata(project)
    schemas = {t.schema for t in metadata.tables.values() if t.schema}
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "include_schemas": True,
        "include_name": include_name(schemas),
        "include_object": include_object,
        "version_table": VERSION_TABLE,
        "version_table_schema": FRAMEWORK_SCHEMA,
        "transaction_per_migration": True,
        "compare_type": True,
        "process_revision_directives": Versioning(
            metadata, allowed_losses(context.get_x_argument(as_dictionary=True))
        ),
    }
    if context.is_offline_mode():
        context.configure(dialect_name="postgresql", literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    conn: ConnectionSettings = config.attributes.get("conn") or ensure_server(
        settings,
        database=config.get_main_option("medallion_database")
        or warehouse_database(project.name, settings.env),
    )
    engine = create_db_engine(conn)
    try:
        with engine.connect() as connection:
            _check_project(connection, project.name, conn)
            _lock(connection, conn, settings.migration_lock_wait)
            try:
                context.configure(connection=connection, **options)
                with context.begin_transaction():
                    context.run_migrations()
            finally:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock_all()"))
                connection.commit()
    finally:
        engine.dispose()


def _check_project(connection: Connection, project: str, conn: ConnectionSettings) -> None:
    recorded = recorded_project(connection)
    connection.commit()
    if recorded is None:
        raise ConfigError(
            f"{conn.describe()} was not built for project '{project}' (it has no "
            f"{FRAMEWORK_SCHEMA}.project): build it first (uv run python "
            f"scripts/orchestrate_build.py postgres {project}) or point at its database."
        )
    if recorded != project:
        raise ConfigError(
            f"{conn.describe()} holds project '{recorded}', not '{project}': migrate it "
            f"with scripts/migrate.py {recorded} ..., or point at {project}'s database."
        )


def _lock(connection: Connection, conn: ConnectionSettings, wait: float) -> None:
    """Hold the database's migration lock (a second run waits ``wait`` seconds, then
    gives up clearly)."""
    key = text(f"SELECT pg_try_advisory_lock({MIGRATION_LOCK})")
    deadline = time.monotonic() + wait
    while not connection.execute(key).scalar():
        connection.commit()
        if time.monotonic() > deadline:
            raise ConfigError(
                f"another migration of {conn.describe()} has held its lock for {wait:g} s; "
                "let it finish (or stop it) and run this again (MEDALLION_MIGRATION_LOCK_WAIT "
                "sets how long to wait)."
            )
        log.info("waiting for another migration of %s to finish", conn.describe())
        time.sleep(0.5)
    connection.commit()

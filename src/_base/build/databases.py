"""Build step: create each project's database if it does not exist."""

from __future__ import annotations

from sqlalchemy import text

from src._base.build.project import LoadedProject
from src._base.build.report import StepResult, timed
from src._base.naming import quote
from src.config import ConnectionSettings
from src.utils.connections import create_db_engine, execute_autocommit


def database_exists(conn: ConnectionSettings, name: str) -> bool:
    engine = create_db_engine(conn, "postgres")
    try:
        with engine.connect() as connection:
            query = text("SELECT 1 FROM pg_database WHERE datname = :name")
            return connection.execute(query, {"name": name}).scalar() is not None
    finally:
        engine.dispose()


def ensure_database(conn: ConnectionSettings, name: str) -> bool:
    """``CREATE DATABASE`` unless it exists (it is atomic by itself); True if created."""
    if database_exists(conn, name):
        return False
    execute_autocommit(conn, f"CREATE DATABASE {quote(name)}", "postgres")
    return True


def create_database(conn: ConnectionSettings, project: LoadedProject) -> StepResult:
    result = StepResult("databases", project.database)
    with timed(result):
        created = ensure_database(conn, project.database)
        (result.created if created else result.present).append(project.database)
    return result


def drop_database(conn: ConnectionSettings, name: str) -> bool:
    """Drop a database (disconnecting its sessions); False when it did not exist."""
    if not database_exists(conn, name):
        return False
    execute_autocommit(conn, f"DROP DATABASE {quote(name)} WITH (FORCE)", "postgres")
    return True

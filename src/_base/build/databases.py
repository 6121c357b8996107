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


def create_database(conn: ConnectionSettings, project: LoadedProject) -> StepResult:
    """``CREATE DATABASE`` unless it exists (CREATE DATABASE is atomic by itself)."""
    result = StepResult("databases", project.name)
    with timed(result):
        if database_exists(conn, project.name):
            result.present.append(project.name)
        else:
            execute_autocommit(conn, f"CREATE DATABASE {quote(project.name)}", "postgres")
            result.created.append(project.name)
    return result


def drop_database(conn: ConnectionSettings, name: str) -> bool:
    """Drop a database (disconnecting its sessions); False when it did not exist."""
    if not database_exists(conn, name):
        return False
    execute_autocommit(conn, f"DROP DATABASE {quote(name)} WITH (FORCE)", "postgres")
    return True

"""Fixtures for framework tests: a clean SQLModel registry and a way to install models."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg2.extensions
import pytest
from sqlmodel import SQLModel

from src._base.functions.system_time import framework_ddl
from src._base.tables.ddl import render_table, table_of
from src.config import ConnectionSettings
from src.utils.connections import connect_raw


@pytest.fixture(autouse=True)
def clean_metadata() -> Iterator[None]:
    """Tests declare their own table classes; each starts with an empty global metadata."""
    SQLModel.metadata.clear()
    yield
    SQLModel.metadata.clear()


def install(conn: psycopg2.extensions.connection, *models: type) -> None:
    """Create the framework helpers, the models' schemas and every statement of each model."""
    with conn.cursor() as cur:
        for statement in framework_ddl():
            cur.execute(statement)
        for schema in sorted({table_of(m).schema for m in models if table_of(m).schema}):
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for model in models:
            for statement in render_table(model).statements():
                cur.execute(statement)
    conn.commit()


@pytest.fixture
def connect(pg_database: ConnectionSettings) -> Iterator[Callable[[], object]]:
    """Open psycopg2 connections to the test's database; all are closed afterwards."""
    opened = []

    def _connect() -> psycopg2.extensions.connection:
        connection = connect_raw(pg_database)
        opened.append(connection)
        return connection

    yield _connect
    for connection in opened:
        connection.close()

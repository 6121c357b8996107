"""Session-wide fixtures: one PostgreSQL server per test session, one database per test.

With PGHOST/PGPORT/DATABASE_URL set, the tests use that server; otherwise they start
a throw-away embedded server (fsync off) on a free port and delete it afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from src.config import ConnectionSettings, load_settings, resolve_connection
from src.utils.connections import check_connection, execute_autocommit
from src.utils.embedded_postgres import EmbeddedPostgres, free_port

FAST_UNSAFE_OPTIONS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectionSettings]:
    """The session's server, as a connection to its ``postgres`` database."""
    settings = load_settings()
    if not settings.uses_embedded_server:
        conn = resolve_connection(settings)
        check_connection(conn)
        yield conn
        return
    server = EmbeddedPostgres(
        home=tmp_path_factory.mktemp("embedded-pg"),
        port=free_port(),
        server_options=FAST_UNSAFE_OPTIONS,
    )
    conn = server.start()
    try:
        yield conn
    finally:
        server.destroy()


@pytest.fixture
def pg_database(pg_server: ConnectionSettings) -> Iterator[ConnectionSettings]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    execute_autocommit(pg_server, f'CREATE DATABASE "{name}"')
    try:
        yield pg_server.with_database(name)
    finally:
        execute_autocommit(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files (generated DDL) from the current code",
    )

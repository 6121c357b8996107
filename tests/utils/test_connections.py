from __future__ import annotations

import time
from dataclasses import replace

import psycopg2
import pytest
from pydantic import SecretStr

from src.config import ConnectionSettings, Settings
from src.utils.connections import (
    check_connection,
    connect_raw,
    copy_between,
    create_db_engine,
    ensure_server,
)
from src.utils.errors import AuthenticationFailed, DatabaseUnreachable
from src.utils.pg_binaries import free_port

pytestmark = pytest.mark.postgres


def test_unreachable_server_fails_fast_with_a_clear_error() -> None:
    conn = ConnectionSettings("127.0.0.1", free_port(), "postgres", "postgres", connect_timeout=3)
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable) as err:
        check_connection(conn)
    assert time.monotonic() - started < 5
    assert f"127.0.0.1:{conn.port}" in str(err.value)
    assert "PGHOST/PGPORT" in str(err.value)


def test_wrong_password_is_reported_as_such(pg_server: ConnectionSettings) -> None:
    wrong = replace(pg_server, password=SecretStr("definitely-wrong"), embedded=False)
    if pg_server.password is None:
        pytest.skip("the configured server does not use passwords")
    with pytest.raises(AuthenticationFailed) as err:
        check_connection(wrong)
    assert "definitely-wrong" not in str(err.value)
    assert "PGPASSWORD" in str(err.value)


def test_missing_database_is_named(pg_server: ConnectionSettings) -> None:
    with pytest.raises(DatabaseUnreachable, match="does not exist"):
        check_connection(pg_server, "no_such_database_here")


def test_ensure_server_uses_a_configured_server(pg_server: ConnectionSettings) -> None:
    settings = Settings(
        _env_file=None,
        PGHOST=pg_server.host,
        PGPORT=str(pg_server.port),
        PGUSER=pg_server.user,
        PGPASSWORD=pg_server.password.get_secret_value() if pg_server.password else "",
    )  # type: ignore[call-arg]
    conn = ensure_server(settings)
    assert not conn.embedded and conn.port == pg_server.port


def test_engine_url_does_not_render_the_password(pg_database: ConnectionSettings) -> None:
    engine = create_db_engine(pg_database)
    try:
        if pg_database.password is not None:
            assert pg_database.password.get_secret_value() not in str(engine.url)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("select current_database()").scalar() == (
                pg_database.database
            )
    finally:
        engine.dispose()


def test_embedded_server_with_another_user_says_why(pg_server: ConnectionSettings) -> None:
    stranger = replace(pg_server, user="alice", password=None, embedded=True)
    with pytest.raises(AuthenticationFailed, match="holds its superuser only"):
        check_connection(stranger)


@pytest.fixture
def two_connections(pg_database: ConnectionSettings):
    source, target = connect_raw(pg_database), connect_raw(pg_database)
    with target.cursor() as cur:
        cur.execute("CREATE TABLE landed (n int, label text)")
    target.commit()
    yield source, target
    source.close()
    target.close()


def landed(target) -> list[tuple]:
    target.rollback()
    with target.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT n) FROM landed")
        return cur.fetchall()


def test_copy_between_streams_more_rows_than_a_pipe_holds(two_connections) -> None:
    source, target = two_connections
    query = "SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g"  # ~5 MB
    copy_between(source, query, target, "landed")
    target.commit()
    assert landed(target) == [(50000, 50000)]


def test_a_source_failing_part_way_raises_and_lands_nothing(two_connections) -> None:
    source, target = two_connections
    # the division by zero comes at row 40,000, after the first rows went through
    query = "SELECT g, (1 / (40000 - g))::text FROM generate_series(1, 50000) g"
    with pytest.raises(psycopg2.errors.DivisionByZero):
        copy_between(source, query, target, "landed")
    assert landed(target) == [(0, 0)]  # the caller did not commit; nothing stays


def test_a_target_refusing_the_rows_raises_without_hanging(two_connections) -> None:
    source, target = two_connections
    query = "SELECT 'not a number', 'x' FROM generate_series(1, 50000)"
    started = time.monotonic()
    with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
        copy_between(source, query, target, "landed")
    assert time.monotonic() - started < 30
    assert landed(target) == [(0, 0)]

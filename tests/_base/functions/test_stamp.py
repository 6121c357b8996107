"""How an updated row's new version gets its start: the server's C stamp where the build may
install it, PL/pgSQL otherwise, and the set-time stamp of replays; and who may write closed
versions straight into the closed partition."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg2.extensions
import pytest
from pydantic import SecretStr

from src._base.functions.system_time import framework_ddl
from src.config import ConnectionSettings
from src.utils.connections import connect_raw, execute_autocommit
from tests._base.conftest import install
from tests._base.tables.sample_models import temporal_model

pytestmark = pytest.mark.postgres

INSERT = "INSERT INTO silver.instrument (instrument_id, symbol, price) VALUES (1, 'A', 10)"
UPDATE = "UPDATE silver.instrument SET price = price + 1 WHERE instrument_id = 1"
PASSWORD = "stamp-test-secret"
INFINITY = datetime.max.replace(tzinfo=UTC)


def run(conn: psycopg2.extensions.connection, sql: str, *params) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
    conn.commit()
    return rows


def stamp_language(conn) -> str:
    return run(
        conn,
        "SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        "WHERE p.oid = 'medallion.stamp_version()'::regprocedure",
    )[0][0]


def history(conn) -> list[tuple]:
    return run(
        conn,
        "SELECT price, sys_start, sys_end FROM silver.instrument_hist "
        "WHERE instrument_id = 1 ORDER BY sys_start",
    )


def update_and_check(conn) -> None:
    """Insert, update in a later transaction: two contiguous versions, the new one
    starting at the update's transaction time; then a replay's update at a set time."""
    run(conn, INSERT)
    with conn.cursor() as cur:
        cur.execute("SELECT now()")
        (at,) = cur.fetchone()
        cur.execute(UPDATE)
    conn.commit()
    first, second = history(conn)
    assert first[0] == 10 and second == (11, at, INFINITY)
    assert first[2] == at
    replayed = at + timedelta(microseconds=1)  # not now(): the C stamp would write that
    with conn.cursor() as cur:
        cur.execute("SELECT medallion.set_system_time(%s)", (replayed,))
        cur.execute(UPDATE)
    conn.commit()
    assert [row[1:] for row in history(conn)][-2:] == [(at, replayed), (replayed, INFINITY)]


@pytest.fixture
def owner(pg_server: ConnectionSettings) -> Iterator[ConnectionSettings]:
    """A database owned by a role that is no superuser, as that role."""
    role = "stamp_owner"
    database = "stamp_owned"
    execute_autocommit(pg_server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    execute_autocommit(pg_server, f"DROP ROLE IF EXISTS {role}")
    execute_autocommit(pg_server, f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    execute_autocommit(pg_server, f"CREATE DATABASE {database} OWNER {role}")
    try:
        yield replace(pg_server.with_database(database), user=role, password=SecretStr(PASSWORD))
    finally:
        execute_autocommit(pg_server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        execute_autocommit(pg_server, f"DROP ROLE IF EXISTS {role}")


@pytest.mark.parametrize("layout", ["sys_start", "partitioned"])
def test_a_superuser_build_stamps_with_the_server_c_trigger(connect, layout: str) -> None:
    conn = connect()
    install(conn, temporal_model(layout))
    assert stamp_language(conn) == "c"
    update_and_check(conn)


def test_a_build_by_a_plain_owner_stamps_in_plpgsql(owner: ConnectionSettings) -> None:
    conn = connect_raw(owner)
    try:
        install(conn, temporal_model("partitioned"))
        assert stamp_language(conn) == "plpgsql"
        update_and_check(conn)
    finally:
        conn.close()


def test_a_later_build_by_a_plain_owner_keeps_the_c_stamp(connect, pg_database) -> None:
    conn = connect()
    install(conn, temporal_model("sys_start"))
    role = f"owner_{pg_database.database}"
    run(conn, f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    run(conn, f"GRANT USAGE ON SCHEMA medallion TO {role}")
    choose = next(s for s in framework_ddl() if s.startswith("DO") and "stamp_version" in s)
    other = connect_raw(replace(pg_database, user=role, password=SecretStr(PASSWORD)))
    try:
        run(other, choose)
    finally:
        other.close()
        run(conn, f"DROP OWNED BY {role}")
        run(conn, f"DROP ROLE {role}")
    assert stamp_language(conn) == "c"


def test_a_user_granted_the_table_only_writes_closed_versions_through_it(
    connect, pg_database
) -> None:
    """A grant on ``*_hist`` does not reach its partitions: the closed versions then go
    through the table, marked internal, and the history is the same."""
    conn = connect()
    install(conn, temporal_model("partitioned"))
    role = f"app_{pg_database.database}"
    run(conn, INSERT)
    run(conn, f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    run(conn, f"GRANT USAGE ON SCHEMA silver, medallion TO {role}")
    run(conn, f"GRANT ALL ON silver.instrument_hist, silver.instrument TO {role}")
    app = connect_raw(replace(pg_database, user=role, password=SecretStr(PASSWORD)))
    try:
        assert run(
            app, "SELECT has_table_privilege('silver.instrument_hist_closed', 'INSERT')"
        ) == [(False,)]
        run(app, UPDATE)
        run(app, "DELETE FROM silver.instrument WHERE instrument_id = 1")
    finally:
        app.close()
        run(conn, f"DROP OWNED BY {role}")
        run(conn, f"DROP ROLE {role}")
    prices = [row[0] for row in history(conn)]
    assert prices == [10, 11]
    assert run(conn, "SELECT count(*) FROM silver.instrument_hist_closed") == [(2,)]
    assert run(conn, "SELECT count(*) FROM silver.instrument_hist_current") == [(0,)]

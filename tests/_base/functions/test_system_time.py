"""medallion.set_system_time / system_time on a real server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg2
import pytest

from src._base.functions.system_time import framework_ddl
from src.config import ConnectionSettings
from src.utils.connections import connect_raw

pytestmark = pytest.mark.postgres


@pytest.fixture
def conn(pg_database: ConnectionSettings):
    connection = connect_raw(pg_database)
    with connection.cursor() as cur:
        for statement in framework_ddl():
            cur.execute(statement)
    connection.commit()
    yield connection
    connection.close()


def one(conn, sql: str, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def test_set_time_reads_back_whatever_the_session_time_zone_and_date_style(conn) -> None:
    at = datetime(2026, 11, 5, 0, 0, tzinfo=UTC)
    one(conn, "SELECT set_config('TimeZone', 'Asia/Kolkata', true)")
    one(conn, "SELECT set_config('DateStyle', 'Postgres, DMY', true)")
    one(conn, "SELECT medallion.set_system_time(%s) IS NOT NULL", at)
    one(conn, "SELECT set_config('DateStyle', 'SQL, MDY', true)")
    assert one(conn, "SELECT medallion.system_time() = %s", at) is True  # compared in SQL


def test_the_setting_lasts_one_transaction(conn) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert one(conn, "SELECT medallion.set_system_time(%s)", at) == at
    assert one(conn, "SELECT medallion.system_time()") == at
    conn.commit()
    assert one(conn, "SELECT medallion.system_time() = now()") is True


@pytest.mark.parametrize("value", ["infinity", "2999-01-01"])
def test_future_or_infinite_times_are_refused(conn, value: str) -> None:
    with pytest.raises(psycopg2.errors.InvalidParameterValue, match="time in the past"):
        one(conn, "SELECT medallion.set_system_time(%s::timestamptz)", value)
    conn.rollback()


def test_framework_ddl_can_run_again(conn) -> None:
    with conn.cursor() as cur:
        for statement in framework_ddl():
            cur.execute(statement)
    conn.commit()


def test_uuid_v7_keys_carry_the_time_and_follow_each_other(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT medallion.uuid_v7(), (extract(epoch FROM clock_timestamp()) * 1000)::bigint"
            " FROM generate_series(1, 2000)"
        )
        made = cur.fetchall()
    keys = [uuid.UUID(str(key)) for key, _ in made]
    assert len(set(keys)) == len(keys)
    assert {(k.version, k.variant) for k in keys} == {(7, uuid.RFC_4122)}
    # every random bit varies (a double's 52-bit mantissa scaled to 62 bits would leave
    # the lowest ten at zero)
    for bit in (*range(62), *range(64, 76)):
        assert len({k.int >> bit & 1 for k in keys}) == 2, bit
    for key, millis in made:
        assert 0 <= millis - (uuid.UUID(str(key)).int >> 80) <= 50  # made just before
    # keys of later milliseconds sort after earlier ones: a bulk insert appends to the index
    prefixes = [k.int >> 80 for k in keys]
    assert prefixes == sorted(prefixes)

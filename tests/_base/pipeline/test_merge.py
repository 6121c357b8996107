"""The set-based SQL loads publish with, on a real temporal table (no Spark needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from src._base.functions.system_time import SET_SYSTEM_TIME
from src._base.pipeline.merge import quarantine_sql, replace_sql, temporal_merge_sql
from tests._base.conftest import install
from tests._base.tables.sample_models import composite_key_temporal_model, temporal_model

pytestmark = pytest.mark.postgres

T1 = datetime(2026, 11, 19, tzinfo=UTC)
T2 = datetime(2026, 11, 20, tzinfo=UTC)
MERGE = temporal_merge_sql(
    "silver.instrument_hist", ("instrument_id",), ("symbol", "name", "price"), "stage",
    valid="ok",
)  # fmt: skip


def rows(conn, sql: str, params=None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def merge_at(conn, at: datetime, snapshot: list[tuple], statements=MERGE) -> None:
    rows(conn, "DROP TABLE IF EXISTS stage")
    rows(conn, "CREATE TABLE stage (instrument_id int, symbol text, name text, price numeric,"
               " ok boolean)")  # fmt: skip
    for row in snapshot:
        rows(conn, "INSERT INTO stage VALUES (%s, %s, %s, %s, %s)", row)
    conn.commit()
    rows(conn, f"SELECT {SET_SYSTEM_TIME}(%s)", (at,))
    for sql in statements:
        rows(conn, sql)
    conn.commit()


def history(conn) -> list[tuple]:
    return rows(
        conn,
        "SELECT instrument_id, name, sys_start, sys_end FROM silver.instrument_hist"
        " ORDER BY instrument_id, sys_start",
    )


@pytest.fixture
def conn(connect):
    db = connect()
    install(db, temporal_model())
    return db


INF = datetime.max.replace(tzinfo=UTC)


def test_changed_rows_get_versions_new_ones_open_and_missing_ones_close(conn) -> None:
    merge_at(conn, T1, [(1, "A", "a", 1, True), (2, "B", "b", 2, True), (3, "C", "c", 3, True)])
    merge_at(conn, T2, [(1, "A", "a", 1, True), (2, "B", "b2", 2, True), (4, "D", "d", 4, True)])
    assert history(conn) == [
        (1, "a", T1, INF),
        (2, "b", T1, T2),
        (2, "b2", T2, INF),
        (3, "c", T1, T2),
        (4, "d", T2, INF),
    ]


def test_merging_the_same_snapshot_again_writes_nothing(conn) -> None:
    snapshot = [(1, "A", "a", 1, True), (2, "B", None, None, True)]
    merge_at(conn, T1, snapshot)
    before = rows(conn, "SELECT xmin::text, * FROM silver.instrument_hist ORDER BY 2")
    merge_at(conn, T2, snapshot)  # NULLs compare as equal: no version for row 2 either
    assert rows(conn, "SELECT xmin::text, * FROM silver.instrument_hist ORDER BY 2") == before


def test_an_invalid_row_neither_changes_nor_closes_its_key(conn) -> None:
    merge_at(conn, T1, [(1, "A", "a", 1, True), (2, "B", "b", 2, True)])
    merge_at(conn, T2, [(1, "A", "a-bad", 1, False), (2, "B", "b", 2, True)])
    assert history(conn) == [(1, "a", T1, INF), (2, "b", T1, INF)]


def test_without_delete_missing_absent_keys_stay_current(conn) -> None:
    keep = temporal_merge_sql(
        "silver.instrument_hist", ("instrument_id",), ("symbol", "name", "price"), "stage",
        delete_missing=False,
    )  # fmt: skip
    merge_at(conn, T1, [(1, "A", "a", 1, True), (2, "B", "b", 2, True)], keep)
    merge_at(conn, T2, [(2, "B", "b2", 2, True)], keep)
    assert history(conn) == [(1, "a", T1, INF), (2, "b", T1, T2), (2, "b2", T2, INF)]


def test_composite_keys_match_on_every_key_column(connect) -> None:
    conn = connect()
    install(conn, composite_key_temporal_model())
    merge = temporal_merge_sql(
        "silver.position_limit_hist", ("portfolio_code", "asset_class"), ("max_notional",),
        "stage",
    )  # fmt: skip
    for at, snapshot in ((T1, [("P1", "EQ", 10), ("P1", "FX", 20)]), (T2, [("P1", "EQ", 11)])):
        rows(conn, "DROP TABLE IF EXISTS stage")
        rows(
            conn, "CREATE TABLE stage (portfolio_code text, asset_class text, max_notional numeric)"
        )
        for row in snapshot:
            rows(conn, "INSERT INTO stage VALUES (%s, %s, %s)", row)
        rows(conn, f"SELECT {SET_SYSTEM_TIME}(%s)", (at,))
        for sql in merge:
            rows(conn, sql)
        conn.commit()
    current = rows(
        conn, "SELECT portfolio_code, asset_class, max_notional FROM silver.position_limit"
    )
    assert current == [("P1", "EQ", 11)]


def test_replace_sql_swaps_one_partition_and_keeps_the_others(connect) -> None:
    conn = connect()
    rows(conn, "CREATE TABLE t (d date, v int)")
    rows(conn, "INSERT INTO t VALUES ('2026-11-19', 1), ('2026-11-20', 2), ('2026-11-20', 3)")
    rows(conn, "CREATE TABLE s AS SELECT DATE '2026-11-20' AS d, 9 AS v")
    for sql in replace_sql("t", "s", ("d", "v"), "d = '2026-11-20'"):
        rows(conn, sql)
    assert sorted(rows(conn, "SELECT d::text, v FROM t")) == [("2026-11-19", 1), ("2026-11-20", 9)]


def test_quarantine_sql_replaces_a_jobs_rejects_for_its_date(connect) -> None:
    conn = connect()
    rows(conn, """CREATE TABLE q (quarantine_id serial, job text, logical_date date,
        source_table text, record_key text, rule text, batch_id uuid, record jsonb,
        effective_time timestamptz)""")  # fmt: skip
    rows(conn, "CREATE TABLE s (record_key text, rule text, record text)")
    rows(conn, """INSERT INTO s VALUES ('k1', 'negative_volume', '{"v": -1}')""")
    params = {
        "job": "j",
        "day": "2026-11-20",
        "source": "b.t",
        "batch": "6f0b7f4e-5a51-4f39-9d0c-6d6c1b3e2a10",
        "at": T2,
    }
    for _ in range(2):  # a rerun replaces, never adds
        rows(conn, quarantine_sql("q", "s"), params)
    assert rows(conn, "SELECT job, record_key, rule, record FROM q") == [
        ("j", "k1", "negative_volume", {"v": -1})
    ]

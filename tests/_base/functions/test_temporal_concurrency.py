"""History under concurrency: a version committed by another transaction is never lost.

Two transactions that start in the same microsecond share one system time. The tests
force that tie by giving the second transaction the first one's time through the
``medallion.system_time`` setting directly (not ``set_system_time()``, which claims the
time for a replay), so nothing depends on the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import psycopg2
import psycopg2.errors
import pytest

from bench.pgbench import pgbench_path, run_pgbench
from src.config import ConnectionSettings
from tests._base.conftest import install
from tests._base.functions.test_temporal import (
    INF,
    INSERT_A,
    assert_contiguous,
    committed,
    run,
    versions,
)
from tests._base.tables.sample_models import temporal_model

pytestmark = pytest.mark.postgres

Connect = Callable[[], psycopg2.extensions.connection]
TIE_MESSAGE = "another transaction committed at this transaction's system time"


@pytest.fixture(params=["sys_start", "sys_end", "partitioned"])
def db(connect: Connect, request: pytest.FixtureRequest) -> Connect:
    install(connect(), temporal_model(request.param))
    return connect


def tied_with(db: Connect, at: datetime):
    """A new transaction whose system time equals ``at`` (as if it started then too)."""
    conn = db()
    run(conn, "SELECT set_config('medallion.system_time', %s::timestamptz::text, true)", at)
    assert run(conn, "SELECT medallion.system_time() = %s", at) == [(True,)]
    return conn


@pytest.mark.parametrize(
    "first",
    [INSERT_A, "UPDATE silver.instrument SET price = 11"],
    ids=["inserted", "updated"],
)
@pytest.mark.parametrize(
    "change",
    ["UPDATE silver.instrument SET price = 12", "DELETE FROM silver.instrument"],
    ids=["update", "delete"],
)
def test_a_version_committed_at_the_same_instant_is_never_overwritten(
    db: Connect, first: str, change: str
) -> None:
    if first != INSERT_A:
        committed(db, INSERT_A)
    at = committed(db, first)
    before = versions(db())
    conn = tied_with(db, at)
    with pytest.raises(psycopg2.errors.SerializationFailure, match=TIE_MESSAGE):
        run(conn, change)
    conn.rollback()
    assert versions(db()) == before
    committed(db, change)  # the retry runs at a later instant and keeps every version
    after = versions(db())
    assert after[: len(before) - 1] == before[:-1]
    assert after[len(before) - 1][:2] == before[-1][:2]
    assert_contiguous(db())


def test_changes_within_one_transaction_still_collapse_at_a_tied_time(db: Connect) -> None:
    at = committed(
        db, "INSERT INTO silver.instrument (instrument_id, symbol, price) " "VALUES (2, 'B', 1)"
    )
    conn = tied_with(db, at)
    run(conn, INSERT_A)
    run(conn, "SAVEPOINT s1")  # a subtransaction's rows are this transaction's too
    run(conn, "UPDATE silver.instrument SET price = 11 WHERE instrument_id = 1")
    run(conn, "RELEASE SAVEPOINT s1")
    run(conn, "UPDATE silver.instrument SET price = 12 WHERE instrument_id = 1")
    conn.commit()
    assert versions(db()) == [(12, at, INF)]
    conn = tied_with(db, at)
    run(conn, INSERT_A.replace("(1, 'A', 10)", "(3, 'C', 10)"))
    run(conn, "SAVEPOINT s1")
    run(conn, "DELETE FROM silver.instrument WHERE instrument_id = 3")
    conn.commit()
    assert versions(db(), key=3) == []


def test_a_frozen_version_at_the_same_instant_is_not_taken_for_ones_own(db: Connect) -> None:
    at = committed(db, INSERT_A)
    conn = db()
    conn.autocommit = True
    run(conn, "VACUUM FREEZE silver.instrument_hist")
    conn.close()
    conn = tied_with(db, at)
    with pytest.raises(psycopg2.errors.SerializationFailure, match=TIE_MESSAGE):
        run(conn, "UPDATE silver.instrument SET price = 12")
    conn.rollback()


def test_a_replay_still_rewrites_the_versions_of_its_own_time(db: Connect) -> None:
    day = datetime.fromisoformat("2026-11-20T00:00:00+00:00")
    replay = f"SELECT medallion.set_system_time('{day.isoformat()}')"
    committed(db, replay, INSERT_A)
    committed(db, replay, "UPDATE silver.instrument SET price = 11")
    assert versions(db()) == [(11, day, INF)]
    committed(db, replay, "DELETE FROM silver.instrument")
    assert versions(db()) == []


@pytest.mark.skipif(pgbench_path() is None, reason="this PostgreSQL install has no pgbench")
def test_concurrent_single_row_updates_keep_every_committed_version(
    connect: Connect, pg_database: ConnectionSettings
) -> None:
    """pgbench: 4 clients append one letter to random keys; each commit is one version."""
    keys = 20
    install(connect(), temporal_model("sys_start"))
    committed(
        connect,
        "INSERT INTO silver.instrument (instrument_id, symbol, name, price) "
        f"SELECT g, 'S' || g, '', 1 FROM generate_series(1, {keys}) g",
    )
    script = (
        f"\\set id random(1, {keys})\n"
        "UPDATE silver.instrument SET name = name || 'x' WHERE instrument_id = :id;\n"
    )
    result = run_pgbench(pg_database, pg_database.database, script, clients=4, seconds=4)
    assert result.committed > 1000 and result.deadlock_failures == 0
    conn = connect()
    (gaps,) = run(
        conn,
        """SELECT count(*) FILTER (WHERE length(name) <> length(prev) + 1)
           FROM (SELECT name, lag(name) OVER w AS prev FROM silver.instrument_hist
                 WINDOW w AS (PARTITION BY instrument_id ORDER BY sys_start)) v
           WHERE prev IS NOT NULL""",
    )
    assert gaps == (0,), "a committed version is missing from the history"
    (letters,) = run(conn, "SELECT sum(length(name)) FROM silver.instrument")
    assert letters == (result.committed,)
    assert_contiguous(conn)

"""System versioning behaviour, on a real PostgreSQL server (one database per test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg2
import psycopg2.errors
import pytest

from tests._base.conftest import install
from tests._base.tables.sample_models import (
    composite_key_temporal_model,
    long_name_temporal_model,
    temporal_model,
)

pytestmark = pytest.mark.postgres

INF = datetime.max.replace(tzinfo=UTC)
Connect = Callable[[], psycopg2.extensions.connection]


@pytest.fixture(params=["sys_start", "sys_end", "partitioned"])
def db(connect: Connect, request: pytest.FixtureRequest) -> Connect:
    """The sample temporal table, once per primary-key choice (``__temporal_key__``)."""
    install(connect(), temporal_model(request.param))
    return connect


def run(conn, sql: str, *params) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def txn_time(conn) -> datetime:
    return run(conn, "SELECT now()")[0][0]


def versions(conn, key: int = 1) -> list[tuple]:
    return run(
        conn,
        "SELECT price, sys_start, sys_end FROM silver.instrument_hist "
        "WHERE instrument_id = %s ORDER BY sys_start",
        key,
    )


def committed(db: Connect, *statements: str) -> datetime:
    """Run statements in one transaction; return its timestamp."""
    conn = db()
    at = txn_time(conn)
    for statement in statements:
        run(conn, statement)
    conn.commit()
    conn.close()
    return at


def assert_contiguous(conn, table: str = "silver.instrument_hist", key: str = "instrument_id"):
    gaps = run(
        conn,
        f"""SELECT {key}, sys_start, sys_end, lead(sys_start) OVER w AS next_start
            FROM {table} WINDOW w AS (PARTITION BY {key} ORDER BY sys_start)""",
    )
    for row in gaps:
        assert row[1] < row[2], f"empty or inverted range {row}"
        assert row[3] is None or row[3] >= row[2], f"overlap {row}"


INSERT_A = "INSERT INTO silver.instrument (instrument_id, symbol, price) VALUES (1, 'A', 10)"


def test_insert_opens_one_version_at_the_transaction_time(db: Connect) -> None:
    at = committed(db, INSERT_A)
    assert versions(db()) == [(10, at, INF)]


def test_update_closes_and_opens_at_the_same_instant(db: Connect) -> None:
    t1 = committed(db, INSERT_A)
    t2 = committed(db, "UPDATE silver.instrument SET price = 11 WHERE instrument_id = 1")
    assert versions(db()) == [(10, t1, t2), (11, t2, INF)]


def test_several_updates_in_one_transaction_leave_one_closed_version(db: Connect) -> None:
    t1 = committed(db, INSERT_A)
    t2 = committed(
        db,
        "UPDATE silver.instrument SET price = 11 WHERE instrument_id = 1",
        "UPDATE silver.instrument SET price = 12 WHERE instrument_id = 1",
        "UPDATE silver.instrument_hist SET price = 13 WHERE instrument_id = 1 "
        "AND sys_end = 'infinity'",
    )
    assert versions(db()) == [(10, t1, t2), (13, t2, INF)]


def test_insert_then_delete_in_one_transaction_leaves_no_trace(db: Connect) -> None:
    committed(db, INSERT_A, "DELETE FROM silver.instrument WHERE instrument_id = 1")
    assert versions(db()) == []


def test_update_then_delete_leaves_only_the_closed_pre_transaction_version(db: Connect) -> None:
    t1 = committed(db, INSERT_A)
    t2 = committed(
        db,
        "UPDATE silver.instrument SET price = 11 WHERE instrument_id = 1",
        "DELETE FROM silver.instrument WHERE instrument_id = 1",
    )
    assert versions(db()) == [(10, t1, t2)]


def test_delete_closes_and_reinsert_opens_a_new_version(db: Connect) -> None:
    t1 = committed(db, INSERT_A)
    t2 = committed(db, "DELETE FROM silver.instrument_hist WHERE instrument_id = 1")
    assert versions(db()) == [(10, t1, t2)]
    assert run(db(), "SELECT count(*) FROM silver.instrument")[0][0] == 0
    t3 = committed(db, INSERT_A.replace("10)", "20)"))
    assert versions(db()) == [(10, t1, t2), (20, t3, INF)]


def test_update_that_changes_nothing_creates_no_version(db: Connect) -> None:
    t1 = committed(db, INSERT_A)
    committed(db, "UPDATE silver.instrument SET price = price, symbol = 'A'")
    assert versions(db()) == [(10, t1, INF)]


def test_closed_versions_are_immutable(db: Connect) -> None:
    committed(db, INSERT_A)
    committed(db, "UPDATE silver.instrument SET price = 11")
    conn = db()
    closed = "instrument_id = 1 AND sys_end <> 'infinity'"
    for statement in (
        f"UPDATE silver.instrument_hist SET price = 0 WHERE {closed}",
        f"DELETE FROM silver.instrument_hist WHERE {closed}",
    ):
        with pytest.raises(psycopg2.errors.IntegrityConstraintViolation, match="is closed"):
            run(conn, statement)
        conn.rollback()
    assert len(versions(conn)) == 2


def test_truncate_is_refused_unless_explicitly_allowed(db: Connect) -> None:
    committed(db, INSERT_A)
    conn = db()
    with pytest.raises(psycopg2.errors.IntegrityConstraintViolation, match="TRUNCATE would"):
        run(conn, "TRUNCATE silver.instrument_hist")
    conn.rollback()
    assert len(versions(conn)) == 1
    conn.rollback()  # release the lock TRUNCATE would wait for
    committed(
        db, "SET LOCAL medallion.allow_history_rewrite = on", "TRUNCATE silver.instrument_hist"
    )
    assert versions(db()) == []


def test_partitions_are_guarded_like_the_table(connect: Connect) -> None:
    """The partitioned layout's view writes the current partition itself, which carries the
    statement triggers: each change still leaves exactly one version, and neither partition
    can be truncated."""
    install(connect(), temporal_model("partitioned"))
    t1 = committed(connect, INSERT_A)
    t2 = committed(connect, "UPDATE silver.instrument SET price = 11 WHERE instrument_id = 1")
    t3 = committed(connect, "DELETE FROM silver.instrument WHERE instrument_id = 1")
    conn = connect()
    assert versions(conn) == [(10, t1, t2), (11, t2, t3)]
    conn.rollback()  # release the lock TRUNCATE would wait for
    for partition in ("instrument_hist_current", "instrument_hist_closed"):
        with pytest.raises(psycopg2.errors.IntegrityConstraintViolation, match="TRUNCATE would"):
            run(conn, f"TRUNCATE silver.{partition}")
        conn.rollback()
    assert len(versions(conn)) == 2


def test_system_columns_and_keys_cannot_be_set_by_hand(db: Connect) -> None:
    committed(db, INSERT_A)
    conn = db()
    for statement, message in (
        (
            "INSERT INTO silver.instrument_hist (instrument_id, symbol, sys_start) "
            "VALUES (2, 'B', '2001-01-01')",
            "maintained by the framework",
        ),
        ("UPDATE silver.instrument_hist SET sys_end = now()", "maintained by the framework"),
        ("UPDATE silver.instrument SET instrument_id = 5", "business key"),
    ):
        with pytest.raises(psycopg2.errors.IntegrityConstraintViolation, match=message):
            run(conn, statement)
        conn.rollback()


def test_a_second_current_version_of_a_key_is_refused(db: Connect) -> None:
    committed(db, INSERT_A)
    with pytest.raises(psycopg2.errors.UniqueViolation, match=r"current_key|_pkey"):
        committed(db, INSERT_A)


def test_later_transaction_wins_when_it_waited_for_the_lock(db: Connect) -> None:
    committed(db, INSERT_A)
    first, second = db(), db()
    txn_time(first)
    run(first, "UPDATE silver.instrument SET price = 11")
    time.sleep(0.01)
    t2 = txn_time(second)
    errors: list[BaseException] = []

    def blocked_update() -> None:
        try:
            run(second, "UPDATE silver.instrument SET price = 12")
            second.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=blocked_update)
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive(), "the second update should wait for the first"
    first.commit()
    worker.join(10)
    assert not errors
    rows = versions(db())
    assert [r[0] for r in rows] == [10, 11, 12]
    assert rows[2][1] == t2
    assert_contiguous(db())


def test_earlier_transaction_changing_a_newer_version_gets_a_serialization_error(
    db: Connect,
) -> None:
    committed(db, INSERT_A)
    older, newer = db(), db()
    txn_time(older)
    time.sleep(0.01)
    txn_time(newer)
    run(newer, "UPDATE silver.instrument SET price = 11")
    newer.commit()
    for statement in (
        "UPDATE silver.instrument SET price = 12",
        "DELETE FROM silver.instrument",
    ):
        with pytest.raises(psycopg2.errors.SerializationFailure, match="retry"):
            run(older, statement)
        older.rollback()
        older = db()
        txn_time(older)
        run(newer, "UPDATE silver.instrument SET price = 13")  # newer again
        newer.commit()
    assert_contiguous(db())


def test_reinsert_by_an_older_transaction_after_a_newer_delete_is_refused(db: Connect) -> None:
    committed(db, INSERT_A)
    older, newer = db(), db()
    txn_time(older)
    time.sleep(0.01)
    txn_time(newer)
    run(newer, "DELETE FROM silver.instrument")
    newer.commit()
    with pytest.raises(psycopg2.errors.SerializationFailure):
        run(older, INSERT_A)
    older.rollback()
    assert_contiguous(db())


def test_concurrent_inserts_of_one_key_cannot_both_win(db: Connect) -> None:
    first, second = db(), db()
    run(first, INSERT_A)
    errors: list[BaseException] = []

    def insert_again() -> None:
        try:
            run(second, INSERT_A)
            second.commit()
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=insert_again)
    worker.start()
    time.sleep(0.2)
    first.commit()
    worker.join(10)
    assert len(errors) == 1 and isinstance(errors[0], psycopg2.errors.UniqueViolation)
    assert len(versions(db())) == 1


def test_as_of_and_between_functions(db: Connect) -> None:
    t1 = committed(db, INSERT_A)
    t2 = committed(db, "UPDATE silver.instrument SET price = 11")
    t3 = committed(db, "UPDATE silver.instrument SET price = 12")
    conn = db()

    def as_of(at: datetime) -> list:
        return run(conn, "SELECT price FROM silver.instrument__as_of(%s)", at)

    assert as_of(t1 - timedelta(seconds=1)) == []
    assert as_of(t1) == [(10,)]
    assert as_of(t2 - timedelta(microseconds=1)) == [(10,)]
    assert as_of(t2) == [(11,)]
    assert as_of(t3 + timedelta(days=1)) == [(12,)]
    between = "SELECT price FROM silver.instrument__between(%s, %s) ORDER BY sys_start"
    assert run(conn, between, t1, t2) == [(10,)]
    assert run(conn, between, t1, t3) == [(10,), (11,)]
    assert run(conn, between, t2, t3 + timedelta(seconds=1)) == [(11,), (12,)]


def test_settable_system_time_loads_history_as_of_another_time(db: Connect) -> None:
    day1 = datetime(2026, 11, 19, tzinfo=UTC)
    day2 = day1 + timedelta(days=1)
    set_time = "SELECT medallion.set_system_time('{}')"
    committed(db, set_time.format(day1), INSERT_A)
    committed(db, set_time.format(day2), "UPDATE silver.instrument SET price = 11")
    assert versions(db()) == [(10, day1, day2), (11, day2, INF)]
    # Replaying day 2 changes the version opened at day 2 in place: no extra version.
    committed(db, set_time.format(day2), "UPDATE silver.instrument SET price = 11")
    committed(db, set_time.format(day2), "UPDATE silver.instrument SET price = 12")
    assert versions(db()) == [(10, day1, day2), (12, day2, INF)]
    # The setting is transaction-local: the next transaction uses now() again.
    conn = db()
    assert run(conn, "SELECT medallion.system_time() = now()") == [(True,)]


def test_system_time_cannot_move_before_an_existing_version(db: Connect) -> None:
    day1 = datetime(2026, 11, 19, tzinfo=UTC)
    committed(db, f"SELECT medallion.set_system_time('{day1}')", INSERT_A)
    conn = db()
    run(conn, "SELECT medallion.set_system_time(%s)", day1 - timedelta(days=1))
    with pytest.raises(psycopg2.errors.SerializationFailure, match=r"medallion\.system_time"):
        run(conn, "UPDATE silver.instrument SET price = 99")
    conn.rollback()
    committed(
        db,
        f"SELECT medallion.set_system_time('{day1 + timedelta(days=2)}')",
        "DELETE FROM silver.instrument",
    )
    run(conn, "SELECT medallion.set_system_time(%s)", day1 + timedelta(days=1))
    with pytest.raises(psycopg2.errors.SerializationFailure):
        run(conn, INSERT_A)
    conn.rollback()


def test_writes_through_the_view_and_the_table_agree(db: Connect) -> None:
    committed(
        db,
        "INSERT INTO silver.instrument (instrument_id, symbol, price) "
        "VALUES (1, 'A', 1), (2, 'B', 2)",
        "INSERT INTO silver.instrument_hist (instrument_id, symbol, price) VALUES (3, 'C', 3)",
    )
    committed(db, "UPDATE silver.instrument SET price = price * 10 WHERE instrument_id < 3")
    committed(db, "DELETE FROM silver.instrument WHERE instrument_id = 2")
    conn = db()
    assert run(conn, "SELECT instrument_id, price FROM silver.instrument ORDER BY 1") == [
        (1, 10),
        (3, 3),
    ]
    assert run(conn, "SELECT count(*) FROM silver.instrument_hist")[0][0] == 5
    assert_contiguous(conn)


def test_composite_business_key(connect: Connect) -> None:
    install(connect(), composite_key_temporal_model())
    committed(
        connect,
        "INSERT INTO silver.position_limit (portfolio_code, asset_class, max_notional) "
        "VALUES ('P1', 'EQ', 100), ('P1', 'FX', 50)",
    )
    committed(
        connect, "UPDATE silver.position_limit SET max_notional = 200 WHERE asset_class = 'EQ'"
    )
    rows = run(
        connect(),
        "SELECT asset_class, max_notional FROM silver.position_limit_hist ORDER BY 1, sys_start",
    )
    assert rows == [("EQ", 100), ("EQ", 200), ("FX", 50)]


def test_long_names_install_without_truncation(connect: Connect) -> None:
    conn = connect()
    notices_before = len(conn.notices)
    install(conn, long_name_temporal_model())
    assert not [n for n in conn.notices[notices_before:] if "truncated" in n]
    view = "silver.very_long_named_counterparty_settlement_instruction_detail"
    committed(connect, f"INSERT INTO {view} (instruction_id, detail) VALUES (1, 'x')")
    committed(connect, f"UPDATE {view} SET detail = 'y'")
    count = run(connect(), f"SELECT count(*) FROM {view}_hist")[0][0]
    assert count == 2


def test_inserts_made_by_a_users_own_trigger_are_still_checked(db: Connect) -> None:
    committed(
        db,
        "CREATE TABLE public.staging (instrument_id int, symbol text)",
        """CREATE FUNCTION public.forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO silver.instrument_hist (instrument_id, symbol, sys_start, sys_end)
            VALUES (NEW.instrument_id, NEW.symbol, '1999-01-01', '2999-01-01');
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER forward AFTER INSERT ON public.staging "
        "FOR EACH ROW EXECUTE FUNCTION public.forward()",
    )
    conn = db()
    with pytest.raises(psycopg2.errors.IntegrityConstraintViolation, match="maintained by"):
        run(conn, "INSERT INTO public.staging VALUES (9, 'Z')")
    conn.rollback()


def test_inserts_under_snapshot_isolation_are_refused(db: Connect) -> None:
    conn = db()
    run(conn, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    with pytest.raises(psycopg2.errors.FeatureNotSupported, match="needs READ COMMITTED"):
        run(conn, INSERT_A)
    conn.rollback()


def test_history_rewrite_is_for_the_owner_only(db: Connect, pg_database) -> None:
    from dataclasses import replace

    from pydantic import SecretStr

    from src.utils.connections import connect_raw

    role = f"app_{pg_database.database}"
    committed(db, INSERT_A)
    committed(
        db,
        f"CREATE ROLE {role} LOGIN PASSWORD 'app-secret'",
        f"GRANT USAGE ON SCHEMA silver, medallion TO {role}",
        f"GRANT ALL ON ALL TABLES IN SCHEMA silver TO {role}",
    )
    app = connect_raw(replace(pg_database, user=role, password=SecretStr("app-secret")))
    try:
        run(app, "SET LOCAL medallion.allow_history_rewrite = on")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="owner only"):
            run(app, "DELETE FROM silver.instrument_hist")
        app.rollback()
    finally:
        app.close()
        committed(db, f"DROP OWNED BY {role}", f"DROP ROLE {role}")
    assert len(versions(db())) == 1

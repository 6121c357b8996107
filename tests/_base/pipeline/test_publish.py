"""A publication is all or nothing: a failure publishes nothing and says why in the log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg2
import pytest

from src._base.functions.system_time import framework_ddl
from src._base.pipeline.claims import claim_load
from src._base.pipeline.publish import pg_type, publication
from src._base.pipeline.run_config import RunConfig
from src.utils.connections import connect_raw

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 20)


@pytest.fixture
def cfg(pg_database) -> RunConfig:
    raw = connect_raw(pg_database)
    with raw.cursor() as cur:
        for statement in framework_ddl():
            cur.execute(statement)
        cur.execute("CREATE TABLE target (v int NOT NULL)")
        cur.execute("INSERT INTO target VALUES (1)")
    raw.commit()
    raw.close()
    return RunConfig(DAY, pg_database, pg_database, Path("/nonexistent"))


def fetch(cfg: RunConfig, sql: str) -> list[tuple]:
    raw = connect_raw(cfg.warehouse)
    try:
        with raw.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        raw.close()


def test_queued_statements_run_in_one_transaction_with_the_log_row(cfg: RunConfig) -> None:
    with claim_load(cfg, "v_to_gold") as claim, publication(claim) as pub:
        pub.execute("DELETE FROM target")
        pub.execute("INSERT INTO target VALUES (%s)", (2,))
        pub.read = pub.written = 1
        assert fetch(cfg, "SELECT v FROM target") == [(1,)]  # nothing visible before the end
    assert fetch(cfg, "SELECT v FROM target") == [(2,)]
    assert fetch(cfg, "SELECT status, rows_written FROM medallion.load_log") == [("succeeded", 1)]


def test_a_failing_statement_publishes_nothing_and_marks_the_load_failed(cfg: RunConfig) -> None:
    with (
        pytest.raises(psycopg2.errors.NotNullViolation),
        claim_load(cfg, "v_to_gold") as claim,
        publication(claim) as pub,
    ):
        pub.execute("DELETE FROM target")
        pub.execute("INSERT INTO target VALUES (NULL)")
    assert fetch(cfg, "SELECT v FROM target") == [(1,)]
    [(status, message)] = fetch(cfg, "SELECT status, message FROM medallion.load_log")
    assert status == "failed" and message.startswith("NotNullViolation: null value")


def test_an_error_in_the_transform_marks_the_load_failed(cfg: RunConfig) -> None:
    with pytest.raises(RuntimeError), claim_load(cfg, "v_to_gold") as claim, publication(claim):
        raise RuntimeError("the source went away")
    assert fetch(cfg, "SELECT status, message FROM medallion.load_log") == [
        ("failed", "RuntimeError: the source went away")
    ]


def test_spark_types_map_to_postgresql_types() -> None:
    assert pg_type("decimal(18,4)") == "numeric(18,4)"
    assert pg_type("timestamp") == "timestamptz"
    assert pg_type("bigint") == "bigint"
    assert pg_type("array<string>") == "text"

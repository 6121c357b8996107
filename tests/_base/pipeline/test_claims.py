"""Claims on a real server: one load per job and date, history jobs whole, dead runs found.

Overlaps are forced with a held claim (another connection, or another process that is
then killed), never with sleeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest

from src._base.functions.system_time import framework_ddl
from src._base.pipeline.batches import begin_batch, finish_batch
from src._base.pipeline.claims import (
    DIED,
    LoadInProgress,
    claim_load,
    recover_dead_loads,
    stage_comment,
    stage_table,
)
from src._base.pipeline.run_config import RunConfig
from src.config import PROJECT_ROOT, ConnectionSettings
from src.utils.connections import connect_raw
from src.utils.errors import PipelineError
from tests.conftest import run_sql

pytestmark = pytest.mark.postgres

D19, D20, D21, D22 = (date(2026, 11, d) for d in (19, 20, 21, 22))


@pytest.fixture
def warehouse(pg_database: ConnectionSettings) -> ConnectionSettings:
    raw = connect_raw(pg_database)
    with raw.cursor() as cur:
        for statement in framework_ddl():
            cur.execute(statement)
    raw.commit()
    raw.close()
    return pg_database


def cfg(conn: ConnectionSettings, day: date) -> RunConfig:
    return RunConfig(day, conn, conn, Path("/nonexistent"))


def sql(conn: ConnectionSettings, statement: str, params=None) -> list[tuple]:
    return run_sql(conn, statement, params)


def succeed(conn: ConnectionSettings, job: str, day: date) -> None:
    raw = connect_raw(conn)
    begin_batch(raw, job, day, uuid.uuid4())
    with raw.cursor() as cur:
        finish_batch(cur, job, day, read=1, written=1, rejected=0)
    raw.commit()
    raw.close()


def test_a_second_claim_of_one_load_fails_naming_the_holder(warehouse) -> None:
    with claim_load(cfg(warehouse, D20), "x_to_bronze"):
        with pytest.raises(LoadInProgress) as error, claim_load(cfg(warehouse, D20), "x_to_bronze"):
            pytest.fail("two claims of one load")
        message = str(error.value)
        assert message.startswith("x_to_bronze for 2026-11-20: x_to_bronze is already being ")
        assert "medallion x_to_bronze 2026-11-20 " in message and f":{os.getpid()}" in message
        assert error.value.transient  # a retry once the holder is done can succeed
        with claim_load(cfg(warehouse, D21), "x_to_bronze"):  # another date: its own load
            pass
    with claim_load(cfg(warehouse, D20), "x_to_bronze"):  # released with its claim
        pass


def test_a_history_job_is_claimed_whole_so_order_checks_cannot_race(warehouse) -> None:
    with (
        claim_load(cfg(warehouse, D20), "h_to_silver", in_order=True),
        pytest.raises(LoadInProgress, match="any date: it keeps history in date order"),
        claim_load(cfg(warehouse, D19), "h_to_silver", in_order=True),
    ):
        pytest.fail("the 19th ran while the 20th was loading")


def test_a_gap_in_history_is_refused_under_the_claim(warehouse) -> None:
    succeed(warehouse, "h_to_silver", D19)
    with claim_load(cfg(warehouse, D20), "h_to_silver", in_order=True) as claim:
        assert claim.skipped is None
    with (
        pytest.raises(PipelineError) as error,
        claim_load(cfg(warehouse, D22), "h_to_silver", in_order=True),
    ):
        pytest.fail("a gap was accepted")
    assert str(error.value) == (
        "h_to_silver for 2026-11-22: refused, history is loaded up to 2026-11-19 and "
        "2026-11-20 .. 2026-11-21 were never loaded. Silver keeps history in date order: load "
        "the missing days first, e.g. scripts/run_pipeline.py <database> --date 2026-11-20 "
        "--to 2026-11-22."
    )


def test_inputs_are_checked_under_the_claim(warehouse) -> None:
    with (
        pytest.raises(PipelineError, match=r"input load\(s\) a_to_bronze have not succeeded"),
        claim_load(cfg(warehouse, D20), "a_to_silver", inputs=("a_to_bronze",)),
    ):
        pytest.fail("ran without its input")
    succeed(warehouse, "a_to_bronze", D20)
    with claim_load(cfg(warehouse, D20), "a_to_silver", inputs=("a_to_bronze",)) as claim:
        assert set(claim.batches) == {"a_to_bronze"}


CRASHING_LOAD = """
import sys
from datetime import date
from pathlib import Path
import uuid
from src._base.pipeline.batches import begin_batch
from src._base.pipeline.claims import claim_load, stage_comment, stage_table
from src._base.pipeline.run_config import RunConfig
from src.config import load_settings, resolve_connection

conn = resolve_connection(load_settings(env_file=None), database=sys.argv[1])
day = date.fromisoformat(sys.argv[2])
with claim_load(RunConfig(day, conn, conn, Path("/nonexistent")), "x_to_gold") as claim:
    begin_batch(claim.raw, "x_to_gold", day, uuid.uuid4())
    table = stage_table("x_to_gold", day, "snapshot")
    with claim.raw.cursor() as cur:
        cur.execute(f"CREATE UNLOGGED TABLE {table} (v int)")
        cur.execute(f"COMMENT ON TABLE {table} IS %s", (stage_comment("x_to_gold", day),))
    claim.raw.commit()
    print("claimed", flush=True)
    sys.stdin.read()  # until killed
"""


def start_crashing_load(warehouse: ConnectionSettings, day: date) -> subprocess.Popen:
    """A process that claims x_to_gold for ``day``, begins it, stages, and waits to be killed."""
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_LOAD, warehouse.database, day.isoformat()],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "claimed"  # the barrier
    return child


def kill(child: subprocess.Popen, warehouse: ConnectionSettings, day: date) -> None:
    """SIGKILL, then wait (bounded) until the server has noticed and ended its session."""
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    deadline = time.monotonic() + 10
    name = f"medallion x_to_gold {day.isoformat()} %"
    while sql(warehouse, "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE %s", (name,)):
        assert time.monotonic() < deadline, "the server kept the killed process's session"
        time.sleep(0.05)


def recover(warehouse: ConnectionSettings):
    raw = connect_raw(warehouse)
    try:
        return recover_dead_loads(raw)
    finally:
        raw.close()


def load_log(warehouse: ConnectionSettings) -> list[tuple]:
    return sql(warehouse, "SELECT logical_date, status, message FROM medallion.load_log ORDER BY 1")


def staged(warehouse: ConnectionSettings) -> list[str]:
    rows = sql(
        warehouse,
        "SELECT relname FROM pg_class WHERE relnamespace = 'medallion'::regnamespace"
        " AND relname LIKE 'stage%%' ORDER BY 1",
    )
    return [row[0] for row in rows]


@pytest.mark.usefixtures("use_test_server")
def test_the_next_claim_fails_a_dead_run_and_drops_what_it_staged(warehouse) -> None:
    child = start_crashing_load(warehouse, D20)
    try:
        with (
            pytest.raises(LoadInProgress, match=r"pid \d+ \(medallion x_to_gold 2026-11-20"),
            claim_load(cfg(warehouse, D20), "x_to_gold"),
        ):
            pytest.fail("claimed a live load")
        assert load_log(warehouse) == [(D20, "running", None)]
    finally:
        kill(child, warehouse, D20)
    assert staged(warehouse) == ["stage_x_to_gold_20261120_snapshot"]
    with claim_load(cfg(warehouse, D20), "x_to_gold") as claim:
        assert claim.recovered == [D20]
        [(day, status, message)] = load_log(warehouse)
        assert (day, status) == (D20, "failed") and message.startswith(DIED)
        assert staged(warehouse) == []


@pytest.mark.usefixtures("use_test_server")
def test_recovery_fails_dead_loads_and_keeps_live_ones(warehouse) -> None:
    dead = start_crashing_load(warehouse, D19)
    kill(dead, warehouse, D19)
    live = start_crashing_load(warehouse, D20)
    legacy = 'medallion."stage_x_to_gold_snapshot_1a2b3c4d"'  # named by an older version
    sql(warehouse, f"CREATE UNLOGGED TABLE {legacy} (v int)")
    try:
        found = recover(warehouse)
        assert found.failed == [("x_to_gold", D19)]
        assert found.dropped == [stage_table("x_to_gold", D19, "snapshot")]
        [alive] = found.alive
        assert alive.startswith("x_to_gold for 2026-11-20 (held by pid ")
        assert staged(warehouse) == [
            "stage_x_to_gold_20261120_snapshot",
            "stage_x_to_gold_snapshot_1a2b3c4d",  # kept while a load is alive
        ]
        assert [row[:2] for row in load_log(warehouse)] == [(D19, "failed"), (D20, "running")]
    finally:
        kill(live, warehouse, D20)
    found = recover(warehouse)
    assert found.failed == [("x_to_gold", D20)] and not found.alive
    assert staged(warehouse) == []


def test_long_stage_names_fit_and_stay_tied_to_their_load() -> None:
    job = "a_very_long_transform_name_that_goes_on_and_on_to_gold"
    table = stage_table(job, D20, "snapshot")
    assert len(table.split('"')[1].encode()) <= 63
    assert table == stage_table(job, D20, "snapshot") != stage_table(job, D21, "snapshot")
    assert stage_comment(job, D20) == f"medallion stage of {job} for 2026-11-20"

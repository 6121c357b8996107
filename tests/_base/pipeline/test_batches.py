"""The load log protocol on a real server: what runs, what is skipped, what is refused."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from src._base.functions.system_time import framework_ddl
from src._base.pipeline.batches import (
    batch_status,
    begin_batch,
    fail_batch,
    finish_batch,
    require_in_order,
    require_inputs,
    succeeded_batch,
)
from src.utils.errors import PipelineError

pytestmark = pytest.mark.postgres

D1, D2, D3 = date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)
BATCH = uuid.UUID("6f0b7f4e-5a51-4f39-9d0c-6d6c1b3e2a10")


@pytest.fixture
def raw(connect):
    conn = connect()
    with conn.cursor() as cur:
        for statement in framework_ddl():
            cur.execute(statement)
    conn.commit()
    return conn


def succeed(raw, job: str, day: date) -> None:
    begin_batch(raw, job, day, BATCH)
    with raw.cursor() as cur:
        finish_batch(cur, job, day, read=3, written=2, rejected=1)
    raw.commit()


def test_a_batch_goes_running_then_succeeded_or_failed(raw) -> None:
    begin_batch(raw, "x_to_bronze", D1, BATCH)
    assert batch_status(raw, "x_to_bronze", D1) == "running"
    assert succeeded_batch(raw, "x_to_bronze", D1) is None
    fail_batch(raw, "x_to_bronze", D1, "ValueError: boom")
    assert batch_status(raw, "x_to_bronze", D1) == "failed"
    succeed(raw, "x_to_bronze", D1)
    assert succeeded_batch(raw, "x_to_bronze", D1) == BATCH
    with raw.cursor() as cur:
        cur.execute("SELECT attempts, rows_read, rows_written, rows_rejected, message"
                    " FROM medallion.load_log")  # fmt: skip
        assert cur.fetchone() == (2, 3, 2, 1, None)  # two attempts; the failure is gone


def test_missing_inputs_are_named_with_what_to_run(raw) -> None:
    succeed(raw, "a_to_bronze", D2)
    with pytest.raises(PipelineError) as error:
        require_inputs(raw, "c_to_silver", D2, ["a_to_bronze", "b_to_bronze"])
    assert str(error.value) == (
        "c_to_silver for 2026-11-19: input load(s) b_to_bronze have not succeeded for "
        "2026-11-19. Run them first, e.g. scripts/run_pipeline.py <database> <layer> "
        "--date 2026-11-19."
    )
    assert require_inputs(raw, "c_to_silver", D2, ["a_to_bronze"]) == {"a_to_bronze": BATCH}


def test_history_loads_run_forward_skip_loaded_days_and_refuse_gaps(raw) -> None:
    assert require_in_order(raw, "h_to_silver", D1) is None  # nothing loaded yet
    succeed(raw, "h_to_silver", D1)
    with pytest.raises(PipelineError, match="loaded up to 2026-11-18 and 2026-11-19 was never"):
        require_in_order(raw, "h_to_silver", D3)  # a gap ahead
    with raw.cursor() as cur:
        cur.execute("DELETE FROM medallion.load_log")
    raw.commit()
    succeed(raw, "h_to_silver", D2)
    assert require_in_order(raw, "h_to_silver", D2) is None  # the latest day: rerun
    assert require_in_order(raw, "h_to_silver", D3) is None  # forward
    succeed(raw, "h_to_silver", D3)
    assert "already part of the history (loaded up to 2026-11-20)" in require_in_order(
        raw, "h_to_silver", D2
    )
    with pytest.raises(PipelineError, match="refused, history is already loaded up to "
                       "2026-11-20 and 2026-11-18 was never loaded"):  # fmt: skip
        require_in_order(raw, "h_to_silver", D1)

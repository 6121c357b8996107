"""Loading a bronze date again on purpose (``--reload``) and days that are not over:
the published batch is replaced atomically (a failed reload leaves the earlier one
published), the latest silver and gold follow, an earlier silver date refuses to be
skipped silently, and a day not over loads only when accepted, recorded as partial."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import run_transforms
from src.config import SRC_PATH
from src.demo.generator import SourceSpec, generate_day
from src.utils.errors import PipelineError
from tests.conftest import run_sql
from tests.demo.conftest import load_days

SPEC = SourceSpec(seed=5, instruments=4, portfolios=2, trades=30)
DAY, NEXT = date(2026, 11, 19), date(2026, 11, 20)
EXTRA_TRADES = """
INSERT INTO ops.trade_event (event_id, trade_id, portfolio_code, instrument_code, action,
    status, quantity, filled_quantity, price, event_time, recorded_date)
SELECT event_id || '-late', trade_id || '-late', portfolio_code, instrument_code, action,
    status, quantity, filled_quantity, price, event_time, recorded_date
FROM ops.trade_event WHERE recorded_date = %s AND row_id %% 3 = 0
"""


def _entries(*names: str):
    entries = {e.name: e for e in load_catalogue(SRC_PATH, "demo").entries}
    return [entries[name] for name in names]


def _log(env, job: str, day: date = DAY) -> tuple:
    [row] = run_sql(
        env.warehouse,
        "SELECT status, rows_written, accepted, batch_id FROM medallion.load_log"
        " WHERE job = %s AND logical_date = %s",
        (job, day),
    )
    return row


def _count(env, sql: str, day: date = DAY) -> int:
    return run_sql(env.warehouse, sql, (day,))[0][0]


def _source_events(env, day: date = DAY) -> int:
    return run_sql(
        env.source, "SELECT count(*) FROM ops.trade_event WHERE recorded_date = %s", (day,)
    )[0][0]


@pytest.mark.parametrize("engine", ["spark", "postgres"])
def test_a_reload_replaces_the_batch_and_the_latest_silver_follows(engine, spark, demo_env):
    load_days(demo_env, [DAY], SPEC)
    before = _log(demo_env, "trade_to_bronze")
    trades = _count(demo_env, "SELECT count(*) FROM silver.trade WHERE trade_date = %s")
    run_sql(demo_env.source, EXTRA_TRADES, (DAY,))  # the source, corrected after the load
    cfg = replace(demo_env.config(DAY), engine=engine)
    session = spark if engine == "spark" else None
    [bronze] = run_transforms(session, cfg, _entries("trade_to_bronze"))
    assert bronze.skipped and "--reload replaces it" in bronze.skipped

    reload = replace(cfg, reload=True)
    [bronze] = run_transforms(session, reload, _entries("trade_to_bronze"))
    assert not bronze.skipped and bronze.rows_written == _source_events(demo_env)
    after = _log(demo_env, "trade_to_bronze")
    assert after[0] == "succeeded" and after[3] == before[3]  # the same batch, replaced
    assert after[1] == bronze.rows_written > before[1]
    in_table = "SELECT count(*) FROM bronze.br_trade WHERE logical_date = %s"
    assert _count(demo_env, in_table) == bronze.rows_written

    # The latest date's silver runs again by itself and sees the corrected batch.
    pg = replace(cfg, engine="postgres")
    run_transforms(None, pg, _entries("trade_to_silver"))
    assert _count(demo_env, "SELECT count(*) FROM silver.trade WHERE trade_date = %s") > trades


def test_a_failed_reload_leaves_the_earlier_batch_published(demo_env) -> None:
    load_days(demo_env, [DAY], SPEC)
    before = _log(demo_env, "trade_to_bronze")
    run_sql(demo_env.source, "DELETE FROM ops.trade_event WHERE recorded_date = %s", (DAY,))
    cfg = replace(demo_env.config(DAY), engine="postgres", reload=True)
    with pytest.raises(PipelineError, match="has no rows for the date"):
        run_transforms(None, cfg, _entries("trade_to_bronze"))
    assert _log(demo_env, "trade_to_bronze") == before  # still published, same rows
    [(message,)] = run_sql(
        demo_env.warehouse,
        "SELECT message FROM medallion.load_log WHERE job = 'trade_to_bronze'",
    )
    assert "a reload failed at" in message and "the earlier batch stays published" in message
    in_table = "SELECT count(*) FROM bronze.br_trade WHERE logical_date = %s"
    assert _count(demo_env, in_table) == before[1]


def test_an_earlier_silver_date_whose_input_was_reloaded_is_not_skipped_silently(demo_env):
    load_days(demo_env, [DAY, NEXT], SPEC)
    run_sql(demo_env.source, EXTRA_TRADES, (DAY,))
    cfg = replace(demo_env.config(DAY), engine="postgres", reload=True)
    run_transforms(None, cfg, _entries("trade_to_bronze"))
    with pytest.raises(
        PipelineError,
        match=r"trade_to_silver for 2026-11-19: its input trade_to_bronze was loaded again at "
        r".*its history is loaded up to 2026-11-20\. .*replay 2026-11-19 \.\. 2026-11-20",
    ):
        run_transforms(None, cfg, _entries("trade_to_silver"))


def test_a_day_not_over_loads_only_when_accepted_and_is_recorded_as_partial(demo_env):
    today = datetime.now(UTC).date()
    generate_day(demo_env.source, demo_env.landing, today, SPEC)
    cfg = replace(demo_env.config(today), engine="postgres")
    with pytest.raises(PipelineError, match=r"the day is not over yet .*--accept-partial"):
        run_transforms(None, cfg, _entries("trade_to_bronze"))
    [bronze] = run_transforms(None, replace(cfg, accept_partial=True), _entries("trade_to_bronze"))
    status, rows, accepted, _ = _log(demo_env, "trade_to_bronze", today)
    assert status == "succeeded" and rows == bronze.rows_written
    assert accepted.startswith("partial day: loaded at ")
    # A partial batch is never skipped as loaded: the next run replaces it (here, still
    # before the day is over, because it is accepted again).
    run_sql(demo_env.source, EXTRA_TRADES, (today,))
    [again] = run_transforms(None, replace(cfg, accept_partial=True), _entries("trade_to_bronze"))
    assert not again.skipped and again.rows_written == _source_events(demo_env, today)

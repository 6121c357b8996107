from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
import pytest

from src._base.pipeline.catalogue import load_transform
from src.config import SRC_PATH
from src.demo.generator import SourceSpec
from src.demo.generator_bars import minute_bars
from src.marketdata import landing
from src.marketdata.ingest import IngestPlan, ingest
from src.marketdata.providers.simulated import Simulated
from src.utils.errors import PipelineError
from tests.conftest import run_sql


def test_a_day_without_bar_files_is_an_error_naming_the_path(spark, demo_env) -> None:
    cfg = demo_env.config(date(2026, 11, 20))
    with pytest.raises(
        PipelineError,
        match=r"bar_to_bronze for 2026-11-20: no files match "
        r".*bars_1m/symbol=\*/year=2026/month=11/day=20\.parquet \(source 'default', from "
        r"the run's default \(MEDALLION_LANDING_DIR\)\)\. Generate or land the day",
    ):
        load_transform(SRC_PATH, "demo", "bronze", "bar_to_bronze").run(spark, cfg)


@pytest.mark.anyio
async def test_bars_landed_by_an_ingest_load_unchanged(spark, demo_env) -> None:
    """The ingest's files (here the simulated provider's) are what bronze reads: every
    landed bar arrives, exact, with its symbol from the path."""
    day = date(2026, 3, 2)
    provider = Simulated()
    symbols = tuple(sorted(minute_bars(SourceSpec(), day).symbols)[:2])
    plan = IngestPlan(symbols, day, day, workers=2)
    report = await ingest(demo_env.warehouse, provider, plan, demo_env.landing)
    assert report.count("done") == 2 and report.landed > 700
    result = load_transform(SRC_PATH, "demo", "bronze", "bar_to_bronze").run(
        spark, demo_env.config(day)
    )
    assert result.rows_written == report.landed
    landed = pq.read_table(landing.bar_file(demo_env.landing, symbols[0], day)).to_pylist()
    rows = run_sql(
        demo_env.warehouse,
        "SELECT bar_time, open, volume, vwap FROM bronze.br_minute_bar WHERE symbol = %s"
        " ORDER BY bar_time",
        (symbols[0],),
    )
    assert rows == [(b["timestamp"], b["open"], b["volume"], b["vwap"]) for b in landed]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

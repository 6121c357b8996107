from __future__ import annotations

from datetime import date, timedelta

import pytest

from src._base.pipeline.catalogue import load_transform
from src.config import SRC_PATH
from src.utils.errors import PipelineError

TRADES = load_transform(SRC_PATH, "demo", "silver", "trade_to_silver")


def test_silver_refuses_to_run_before_its_bronze_batch(spark, demo_env) -> None:
    cfg = demo_env.config(date(2026, 11, 20))
    with pytest.raises(
        PipelineError,
        match=r"trade_to_silver for 2026-11-20: input load\(s\) instrument_to_silver, "
        r"portfolio_to_silver, trade_to_bronze have not",
    ):
        TRADES.run(spark, cfg)


def test_a_day_that_is_not_over_cannot_start_versions(spark, demo_env) -> None:
    cfg = demo_env.config(date.today() + timedelta(days=1))
    with pytest.raises(PipelineError, match="the day is not over yet"):
        TRADES.run(spark, cfg)

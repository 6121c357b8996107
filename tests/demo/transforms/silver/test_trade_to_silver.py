from __future__ import annotations

from datetime import date, timedelta

import pytest

from src.demo.transforms.silver import trade_to_silver
from src.utils.errors import PipelineError


def test_silver_refuses_to_run_before_its_bronze_batch(spark, demo_env) -> None:
    cfg = demo_env.config(date(2026, 11, 20))
    with pytest.raises(
        PipelineError,
        match=r"trade_to_silver for 2026-11-20: input load\(s\) trade_to_bronze have not",
    ):
        trade_to_silver.run(spark, cfg)


def test_a_day_that_is_not_over_cannot_start_versions(spark, demo_env) -> None:
    cfg = demo_env.config(date.today() + timedelta(days=1))
    with pytest.raises(PipelineError, match="the day is not over yet"):
        trade_to_silver.run(spark, cfg)

from __future__ import annotations

from datetime import date

import pytest

from src._base.pipeline.catalogue import load_transform
from src.config import SRC_PATH
from src.utils.errors import PipelineError


def test_a_day_without_bar_files_is_an_error_naming_the_path(spark, demo_env) -> None:
    cfg = demo_env.config(date(2026, 11, 20))
    with pytest.raises(
        PipelineError,
        match=r"bar_to_bronze for 2026-11-20: no files match "
        r".*bars_1m/symbol=\*/year=2026/month=11/day=20\.parquet\. Generate",
    ):
        load_transform(SRC_PATH, "demo", "bronze", "bar_to_bronze").run(spark, cfg)

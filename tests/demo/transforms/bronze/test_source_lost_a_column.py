"""A source table that lost a column the load maps fails the load before anything is
published, naming the source, the column and the transform file, on either engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import run_transforms
from src.config import SRC_PATH
from src.demo.generator import SourceSpec, generate_day
from src.utils.errors import PipelineError
from tests.conftest import run_sql

DAY = date(2026, 11, 20)


@pytest.mark.parametrize("engine", ["spark", "postgres"])
def test_a_source_that_lost_a_column_names_it(engine, spark, demo_env) -> None:
    generate_day(demo_env.source, demo_env.landing, DAY, SourceSpec(seed=6, trades=30))
    run_sql(demo_env.source, "ALTER TABLE ops.trade_event DROP COLUMN price")
    [entry] = [e for e in load_catalogue(SRC_PATH, "demo").entries if e.name == "trade_to_bronze"]
    cfg = replace(demo_env.config(DAY), engine=engine)
    with pytest.raises(
        PipelineError,
        match=r"trade_to_bronze for 2026-11-20: the source \S+\.ops\.trade_event has no "
        r"column\(s\) price, which transforms/bronze/trade_to_bronze\.py maps \(it has: "
        r".*event_id.*\)\. The source changed",
    ):
        run_transforms(spark if engine == "spark" else None, cfg, [entry])
    published = "SELECT count(*) FROM medallion.load_log WHERE status = 'succeeded'"
    assert run_sql(demo_env.warehouse, published) == [(0,)]
    assert run_sql(demo_env.warehouse, "SELECT count(*) FROM bronze.br_trade") == [(0,)]

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


@pytest.mark.parametrize("engine", ["spark", "postgres"])
def test_a_snapshot_is_refused_for_a_date_after_the_source_and_records_what_it_read(
    engine, spark, demo_env
) -> None:
    """The instrument master is a snapshot: loading it as 2026-11-21 when the source has
    only closed 2026-11-20 would stamp today's rows with a later day."""
    generate_day(demo_env.source, demo_env.landing, DAY, SourceSpec(seed=6, trades=30))
    [entry] = [
        e for e in load_catalogue(SRC_PATH, "demo").entries if e.name == "instrument_to_bronze"
    ]
    session = spark if engine == "spark" else None
    later = replace(demo_env.config(date(2026, 11, 21)), engine=engine)
    with pytest.raises(
        PipelineError,
        match=r"instrument_to_bronze for 2026-11-21: ops\.instrument is current through "
        r"2026-11-20 only, so its rows are not 2026-11-21's yet",
    ):
        run_transforms(session, later, [entry])
    run_transforms(session, replace(demo_env.config(DAY), engine=engine), [entry])
    [(message,)] = run_sql(
        demo_env.warehouse,
        "SELECT message FROM medallion.load_log WHERE job = 'instrument_to_bronze'"
        " AND status = 'succeeded'",
    )
    assert message.startswith("snapshot current through 2026-11-20, read at ")

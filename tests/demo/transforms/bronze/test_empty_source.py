"""A bronze load never records ``succeeded`` for data it did not see: a source with
nothing for the date fails the load, naming it, and a run once the data is there loads
it (a late source is not skipped as "already loaded")."""

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

SPEC = SourceSpec(seed=3, instruments=4, portfolios=2, trades=40)
DAY = date(2026, 11, 20)


def _entry(name: str):
    [entry] = [e for e in load_catalogue(SRC_PATH, "demo").entries if e.name == name]
    return entry


def _status(env, job: str) -> list[tuple]:
    return run_sql(
        env.warehouse,
        "SELECT status, rows_written FROM medallion.load_log WHERE job = %s AND logical_date = %s",
        (job, DAY),
    )


@pytest.mark.parametrize("engine", ["spark", "postgres"])
def test_a_source_with_nothing_for_the_date_fails_and_loads_once_it_arrives(
    engine, spark, demo_env
) -> None:
    generate_day(demo_env.source, demo_env.landing, date(2026, 11, 19), SPEC)  # not DAY
    cfg = replace(demo_env.config(DAY), engine=engine)
    session = spark if engine == "spark" else None
    entry = _entry("trade_to_bronze")
    with pytest.raises(
        PipelineError,
        match=r"trade_to_bronze for 2026-11-20: the source \S+\.ops\.trade_event has no rows "
        r"for the date, so nothing was loaded .*empty_ok=True\) in "
        r"transforms/bronze/trade_to_bronze\.py",
    ):
        run_transforms(session, cfg, [entry])
    assert _status(demo_env, "trade_to_bronze") == [("failed", None)]

    generate_day(demo_env.source, demo_env.landing, DAY, SPEC)  # the source arrives late
    [result] = run_transforms(session, cfg, [entry])
    assert result.rows_written > 0 and not result.skipped
    assert _status(demo_env, "trade_to_bronze") == [("succeeded", result.rows_written)]
    [(rows,)] = run_sql(
        demo_env.warehouse, "SELECT count(*) FROM bronze.br_trade WHERE logical_date = %s", (DAY,)
    )
    assert rows == result.rows_written


def test_a_source_declared_to_have_empty_days_loads_an_empty_batch(demo_env) -> None:
    generate_day(demo_env.source, demo_env.landing, date(2026, 11, 19), SPEC)
    cfg = replace(demo_env.config(DAY), engine="postgres")
    entry = _entry("trade_to_bronze")
    quiet = replace(entry, spec=replace(entry.spec, empty_ok=True))
    [result] = run_transforms(None, cfg, [quiet])
    assert result.rows_written == 0 and _status(demo_env, "trade_to_bronze") == [("succeeded", 0)]

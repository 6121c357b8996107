"""A landing file at fault is the one named, before any engine reads the day: one that
is not Parquet (truncated), or whose column types differ from the day's other files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import run_transforms
from src.config import SRC_PATH
from src.demo.generator import SourceSpec, generate_day
from src.utils.errors import PipelineError
from tests.conftest import run_sql

DAY = date(2026, 11, 20)


@pytest.fixture
def landed(demo_env):
    generate_day(demo_env.source, demo_env.landing, DAY, SourceSpec(seed=4, instruments=4))
    files = sorted((demo_env.landing / "bars_1m").glob("symbol=*/year=2026/month=11/day=20.*"))
    assert len(files) >= 3
    return demo_env, files


def _bars():
    [entry] = [e for e in load_catalogue(SRC_PATH, "demo").entries if e.name == "bar_to_bronze"]
    return entry


def _refused(env, engine: str, spark, match: str) -> None:
    """The load fails with ``match`` on ``engine``, and nothing is loaded or published."""
    cfg = replace(env.config(DAY), engine=engine)
    with pytest.raises(PipelineError, match=match):
        run_transforms(spark if engine == "spark" else None, cfg, [_bars()])
    assert run_sql(env.warehouse, "SELECT count(*) FROM bronze.br_minute_bar") == [(0,)]
    loaded = "SELECT count(*) FROM medallion.load_log WHERE status = 'succeeded'"
    assert run_sql(env.warehouse, loaded) == [(0,)]


@pytest.mark.parametrize("engine", ["spark", "postgres"])
def test_a_truncated_file_is_named(engine, spark, landed) -> None:
    env, files = landed
    bad = files[1]
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    _refused(
        env, engine, spark,
        rf"bar_to_bronze for 2026-11-20: the landing file {bad} cannot be read as Parquet"
        r" .*truncated or still being written",
    )  # fmt: skip


@pytest.mark.parametrize("engine", ["spark", "postgres"])
def test_a_file_whose_column_has_another_type_is_named_not_a_good_one(
    engine, spark, landed
) -> None:
    env, files = landed
    bad = files[-1]
    table = pq.read_table(bad)
    volume = table.column("volume").cast(pa.string())
    pq.write_table(table.set_column(table.schema.get_field_index("volume"), "volume", volume), bad)
    _refused(
        env, engine, spark,
        rf"the landing file {bad} has columns of its own \(volume string\) where the "
        rf"day's other {len(files) - 1} file\(s\) have \(volume double\)",
    )  # fmt: skip

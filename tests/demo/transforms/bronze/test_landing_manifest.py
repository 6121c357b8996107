"""A landing day is loaded once every file its manifest expects has landed: a day with a
symbol missing is refused (naming it) unless accepted as partial, and a partial day is
loaded again, whole, once the missing file arrives; no bar is lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import run_transforms
from src.config import SRC_PATH
from src.demo.generator import SourceSpec, generate_day
from src.marketdata.landing import manifest_file
from src.utils.errors import PipelineError
from tests.conftest import run_sql

DAY = date(2026, 11, 20)


def _bars():
    [entry] = [e for e in load_catalogue(SRC_PATH, "demo").entries if e.name == "bar_to_bronze"]
    return entry


def _loaded(env) -> tuple:
    [row] = run_sql(
        env.warehouse,
        "SELECT l.status, l.rows_written, l.accepted, (SELECT count(*) FROM bronze.br_minute_bar)"
        " FROM medallion.load_log l WHERE job = 'bar_to_bronze'",
    )
    return row


@pytest.mark.parametrize("engine", ["spark", "postgres"])
def test_a_day_missing_a_file_waits_for_it_or_loads_partially_then_whole(
    engine, spark, demo_env
) -> None:
    generate_day(demo_env.source, demo_env.landing, DAY, SourceSpec(seed=2, instruments=5))
    files = sorted(
        (demo_env.landing / "bars_1m").glob("symbol=*/year=2026/month=11/day=20.parquet")
    )
    late = files[2]
    kept = late.read_bytes()
    late.unlink()  # one symbol's file has not landed yet
    relative = late.relative_to(demo_env.landing / "bars_1m")
    cfg = replace(demo_env.config(DAY), engine=engine)
    session = spark if engine == "spark" else None
    with pytest.raises(
        PipelineError,
        match=rf"bar_to_bronze for 2026-11-20: 1 of the {len(files)} files the manifest "
        rf"\({manifest_file(demo_env.landing, DAY)}\) expects have not landed: {relative}\. "
        r"Land them and rerun, or pass --accept-partial",
    ):
        run_transforms(session, cfg, [_bars()])

    [partial] = run_transforms(session, replace(cfg, accept_partial=True), [_bars()])
    status, rows, accepted, in_table = _loaded(demo_env)
    assert status == "succeeded" and rows == partial.rows_written == in_table > 0
    assert accepted == f"partial day: 1 of {len(files)} expected files missing: {relative}"

    late.write_bytes(kept)  # the file arrives: a plain rerun loads the day whole
    [whole] = run_transforms(session, cfg, [_bars()])
    assert not whole.skipped and whole.rows_written > partial.rows_written
    assert _loaded(demo_env) == ("succeeded", whole.rows_written, None, whole.rows_written)


def test_a_day_without_its_manifest_is_refused_unless_accepted(demo_env) -> None:
    generate_day(demo_env.source, demo_env.landing, DAY, SourceSpec(seed=2, instruments=3))
    manifest_file(demo_env.landing, DAY).unlink()
    cfg = replace(demo_env.config(DAY), engine="postgres")
    with pytest.raises(PipelineError, match=r"the day's manifest .*day=20\.json is missing"):
        run_transforms(None, cfg, [_bars()])
    run_transforms(None, replace(cfg, accept_partial=True), [_bars()])
    assert _loaded(demo_env)[2] == "partial day: no manifest, 3 file(s) as found"

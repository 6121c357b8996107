"""Run a project's transforms for one date or a range of dates, in order.

    results = run_days(spark, settings, conn, "demo", [date(2026, 11, 20)], layers=("silver",))

Each date runs bronze, then silver, then gold (or the layers/transforms asked for);
the first failure stops the run, since later layers and dates build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src._base.pipeline.runner import discover_transforms, run_transforms, select_transforms
from src.config import ConnectionSettings, Settings
from src.utils.errors import PipelineError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession


def run_config(settings: Settings, conn: ConnectionSettings, database: str, day: date) -> RunConfig:
    """The run's config: warehouse and source databases on ``conn``'s server."""
    return RunConfig(
        logical_date=day,
        warehouse=conn.with_database(database),
        source=conn.with_database(settings.source_database),
        landing_dir=settings.landing_dir,
        writer=settings.spark_writer,
    )


def date_range(first: date, last: date | None = None) -> list[date]:
    """Every date from ``first`` to ``last`` inclusive (one date when ``last`` is None)."""
    last = last or first
    if last < first:
        raise PipelineError(f"The range {first} .. {last} ends before it starts; swap the dates.")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def run_days(
    spark: SparkSession,
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    days: Sequence[date],
    *,
    layers: Sequence[str] = (),
    names: Sequence[str] = (),
) -> list[TransformResult]:
    transforms = select_transforms(discover_transforms(settings.src_path, database), layers, names)
    results: list[TransformResult] = []
    for day in days:
        results.extend(run_transforms(spark, run_config(settings, conn, database, day), transforms))
    return results

"""Run a project's transforms for one date or a range of dates, in order.

    transforms = load_catalogue(settings.src_path, "demo").select(layers=("silver",))
    results = run_days(spark, settings, conn, "demo", [date(2026, 11, 20)], transforms)

Each date runs the transforms given (in catalogue order: bronze, silver, gold); the first
failure stops the run, since later layers and dates build on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from src._base.engines import check_engine
from src._base.pipeline.catalogue import TransformEntry
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src.config import ConnectionSettings, Settings
from src.utils.errors import PipelineError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def run_config(
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    day: date,
    restated_at: datetime | None = None,
) -> RunConfig:
    """The run's config: warehouse and source databases on ``conn``'s server; with
    ``restated_at``, gold restates the date as known at that time."""
    return RunConfig(
        logical_date=day,
        warehouse=conn.with_database(database),
        source=conn.with_database(settings.source_database),
        landing_dir=settings.landing_dir,
        writer=settings.spark_writer,
        engine=check_engine(settings.engine),
        restated_at=restated_at,
    )


def date_range(first: date, last: date | None = None) -> list[date]:
    """Every date from ``first`` to ``last`` inclusive (one date when ``last`` is None)."""
    last = last or first
    if last < first:
        raise PipelineError(f"The range {first} .. {last} ends before it starts; swap the dates.")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def run_transforms(
    spark: SparkSession | None, cfg: RunConfig, transforms: Sequence[TransformEntry]
) -> list[TransformResult]:
    """Run in order for one date; the first failure stops the run (later ones need it)."""
    results = []
    for transform in transforms:
        started = time.perf_counter()
        log.info("%s %s: %s", cfg.logical_date, transform.layer, transform.name)
        result = transform.run(spark, cfg)
        result.seconds = time.perf_counter() - started
        log.info(
            "%s %s: %s (%.1fs)", cfg.logical_date, result.job, result.summary(), result.seconds
        )
        results.append(result)
    return results


def run_days(
    spark: SparkSession | None,
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    days: Sequence[date],
    transforms: Sequence[TransformEntry],
    *,
    restated_at: datetime | None = None,
) -> list[TransformResult]:
    """Run ``transforms`` for each date in order (see :func:`run_config` for
    ``restated_at``)."""
    results: list[TransformResult] = []
    for day in days:
        cfg = run_config(settings, conn, database, day, restated_at)
        results.extend(run_transforms(spark, cfg, transforms))
    return results

"""What Airflow tasks do, as plain functions (no Airflow import): easy to test and reuse.

Settings are read here, when a task runs, not when a DAG file is parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from src.config import load_settings

log = logging.getLogger(__name__)


def run_transform(
    database: str,
    layer: str,
    transform: str,
    days: Sequence[date],
    engine: str | None = None,
    tenant: str | None = None,
    *,
    reload: bool = False,
    accept_partial: bool = False,
) -> list[dict[str, Any]]:
    """Run one transform for each date in order; returns what each run reported.
    ``reload`` and ``accept_partial``: as ``run_pipeline.py``'s flags (a run's conf).

    Imports that transform's module only: a broken module elsewhere cannot fail this task.
    """
    from src._base.engines import check_engine
    from src._base.pipeline.catalogue import load_transform
    from src._base.pipeline.daily import run_days
    from src.utils.connections import ensure_server
    from src.utils.spark import build_spark_session

    settings = load_settings()
    if engine:  # the run's conf chose one; otherwise MEDALLION_ENGINE
        settings = settings.model_copy(update={"engine": check_engine(engine)})
    entry = load_transform(settings.src_path, database, layer, transform)
    conn = ensure_server(settings)
    spark = build_spark_session(settings) if settings.engine == "spark" else None
    results = run_days(
        spark, settings, conn, database, days, [entry], tenant=tenant,
        reload=reload, accept_partial=accept_partial,
    )  # fmt: skip
    for result in results:
        log.info("%s: %s", result.job, result.summary())
    return [asdict(result) for result in results]


def wait_for_source(
    database: str,
    layer: str,
    transform: str,
    days: Sequence[date],
    tenant: str | None = None,
    *,
    accept_partial: bool = False,
) -> str | None:
    """None when the transform's source is ready for every date, else what it waits for
    (:func:`~src._base.pipeline.readiness.source_ready`); ``accept_partial``: a day not
    over or with files missing is ready (the load records it as partial)."""
    from src._base.pipeline.catalogue import load_transform
    from src._base.pipeline.daily import run_config
    from src._base.pipeline.readiness import source_ready
    from src.utils.connections import ensure_server

    settings = load_settings()
    entry = load_transform(settings.src_path, database, layer, transform)
    conn = ensure_server(settings)
    for day in days:
        cfg = run_config(settings, conn, database, day, tenant=tenant,
                         accept_partial=accept_partial)  # fmt: skip
        reason = source_ready(cfg, transform, entry.spec)
        if reason is not None:
            return f"{transform} for {day}: {reason}"
    return None


def run_quality(
    database: str, task: str, rules: Sequence[Any], days: Sequence[date]
) -> list[dict[str, Any]]:
    """Evaluate ``rules`` in the warehouse for each date; raise on a failed ``fail`` rule."""
    from src._base.build.project import warehouse_database
    from src._base.quality.check import enforce, run_rules
    from src.utils.connections import ensure_server

    settings = load_settings()
    conn = ensure_server(settings).with_database(warehouse_database(database, settings.env))
    reported = []
    for day in days:
        log.info("%s for %s: %d rule(s)", task, day, len(rules))
        results = run_rules(conn, rules, day)
        reported.extend({"date": day.isoformat(), **asdict(r)} for r in results)
        enforce(task, day, results)
    return reported

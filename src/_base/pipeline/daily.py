"""Run a project's transforms for one date or a range of dates, in order.

    transforms = load_catalogue(settings.src_path, "demo").select(layers=("silver",))
    results = run_days(spark, settings, conn, "demo", [date(2026, 11, 20)], transforms)

Each date runs the transforms given (in catalogue order: bronze, silver, gold); the first
failure stops the run, since later layers and dates build on it. On the postgres engine,
``workers`` transforms run side by side, each once its declared inputs are done.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from src._base.build.discovery import load_projects
from src._base.build.project import warehouse_database
from src._base.engines import check_engine
from src._base.pipeline.catalogue import TransformEntry
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src._base.sources.resolve import project_sources
from src.config import ConnectionSettings, Settings
from src.utils.errors import ConfigError, MedallionError, PipelineError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def run_config(
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    day: date,
    restated_at: datetime | None = None,
    tenant: str | None = None,
    warehouse: ConnectionSettings | None = None,
    *,
    accept_partial: bool = False,
    reload: bool = False,
) -> RunConfig:
    """The run's config: the project ``database``'s warehouse on ``conn``'s server (in
    ``settings.env``'s database, see :func:`warehouse_database`), its declared sources
    resolved (:func:`project_sources`); with ``restated_at``, gold restates the date as
    known at that time; with ``tenant``, the tenant's run (:func:`tenant_layers`);
    ``warehouse``: another database than the project's (a comparison's throw-away one);
    ``accept_partial`` and ``reload``: see :class:`RunConfig`."""
    warehouse = warehouse or conn.with_database(warehouse_database(database, settings.env))
    return RunConfig(
        tenant=tenant,
        tenant_layers=tenant_layers(settings, database, tenant) if tenant else (),
        logical_date=day,
        warehouse=warehouse,
        source=conn.with_database(settings.source_database),
        landing_dir=settings.landing_dir,
        writer=settings.spark_writer,
        engine=check_engine(settings.engine),
        restated_at=restated_at,
        sources=project_sources(settings, warehouse, database, tenant),
        accept_partial=accept_partial,
        reload=reload,
    )


def tenant_layers(settings: Settings, database: str, tenant: str) -> tuple[str, ...]:
    """The schemas ``tenant`` has copies of; a tenant the project does not declare is an
    error listing those it does."""
    [project] = load_projects(settings.src_path, database)
    if tenant not in project.tenants:
        known = ", ".join(project.tenants) or "none"
        raise ConfigError(
            f"Project {database} declares no tenant '{tenant}' (declared: {known}); add it to "
            "tenants= of its DATABASE and build again."
        )
    return tuple(project.tenant_layers)


def date_range(first: date, last: date | None = None) -> list[date]:
    """Every date from ``first`` to ``last`` inclusive (one date when ``last`` is None)."""
    last = last or first
    if last < first:
        raise PipelineError(f"The range {first} .. {last} ends before it starts; swap the dates.")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def default_workers(engine: str) -> int:
    """Transforms run side by side by default: one on Spark (its temporary views are
    shared by the whole session), up to four on PostgreSQL (each load has its own
    connection), no more than the machine has cores."""
    return 1 if engine == "spark" else max(1, min(4, os.cpu_count() or 1))


def check_workers(engine: str, workers: int) -> int:
    if workers < 1:
        raise PipelineError(f"--workers {workers}: give 1 or more.")
    if workers > 1 and engine == "spark":
        raise PipelineError(
            f"--workers {workers} with the spark engine: its transforms share one session's "
            "temporary views, so they run one at a time. Use --workers 1, or --engine postgres."
        )
    return workers


def run_transforms(
    spark: SparkSession | None,
    cfg: RunConfig,
    transforms: Sequence[TransformEntry],
    *,
    workers: int = 1,
) -> list[TransformResult]:
    """Run ``transforms`` for one date, each after those of its inputs that are among
    them; results in the order given. The first failure stops the run (later ones need
    it): nothing new starts, what is running finishes, then the failure is raised.

    ``workers`` > 1 (the postgres engine): that many at once. A day's trades and its bars
    go through bronze and silver side by side, on two cores in about the time of the
    trades alone.
    """
    if check_workers(cfg.engine, workers) == 1:
        return [_run_one(spark, cfg, transform) for transform in transforms]
    names = {t.name for t in transforms}
    needs = {t.name: {i for i in t.inputs if i in names} for t in transforms}
    pending, done = list(transforms), {}
    running: dict[Future[TransformResult], TransformEntry] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(workers, thread_name_prefix="transform") as pool:
        while pending or running:
            ready = [t for t in pending if needs[t.name] <= done.keys()]
            for transform in ready[: workers - len(running)] if failure is None else []:
                pending.remove(transform)
                running[pool.submit(_run_one, spark, cfg, transform)] = transform
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                transform = running.pop(future)
                try:
                    done[transform.name] = future.result()
                except BaseException as exc:  # raised once the running ones end
                    failure = failure or exc
    if failure is not None:
        raise failure
    return [done[t.name] for t in transforms]


def _run_one(
    spark: SparkSession | None, cfg: RunConfig, transform: TransformEntry
) -> TransformResult:
    started = time.perf_counter()
    log.info("%s %s: %s", cfg.logical_date, transform.layer, transform.name)
    result = transform.run(spark, cfg)
    result.seconds = time.perf_counter() - started
    log.info("%s %s: %s (%.1fs)", cfg.logical_date, result.job, result.summary(), result.seconds)
    return result


def run_days(
    spark: SparkSession | None,
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    days: Sequence[date],
    transforms: Sequence[TransformEntry],
    *,
    restated_at: datetime | None = None,
    workers: int = 1,
    tenant: str | None = None,
    accept_partial: bool = False,
    reload: bool = False,
) -> list[TransformResult]:
    """Run ``transforms`` for each date in order (see :func:`run_config` for
    ``restated_at``, ``tenant``, ``accept_partial`` and ``reload``, :func:`run_transforms`
    for ``workers``)."""
    results: list[TransformResult] = []
    for day in days:
        cfg = run_config(
            settings, conn, database, day, restated_at, tenant,
            accept_partial=accept_partial, reload=reload,
        )  # fmt: skip
        results.extend(run_transforms(spark, cfg, transforms, workers=workers))
    return results


@dataclass
class TenantRun:
    """One tenant's run: its results, or the error that stopped it."""

    tenant: str
    results: list[TransformResult] = field(default_factory=list)
    error: str | None = None


def run_tenants(
    spark: SparkSession | None,
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    days: Sequence[date],
    transforms: Sequence[TransformEntry],
    tenants: Sequence[str],
    **options: Any,
) -> list[TenantRun]:
    """Run the dates for each tenant in turn; a tenant's failure is recorded and the next
    tenant still runs (its data shares nothing with the others)."""
    runs = []
    for tenant in tenants:
        run = TenantRun(tenant)
        try:
            run.results = run_days(
                spark, settings, conn, database, days, transforms, tenant=tenant, **options
            )
        except MedallionError as exc:
            log.error("tenant %s: %s", tenant, exc)
            run.error = str(exc)
        runs.append(run)
    return runs

"""Run a project's transforms for a date or a date range: all layers, some, or one transform.

    python scripts/run_pipeline.py demo --date 2026-11-20                 # bronze, silver, gold
    python scripts/run_pipeline.py --date 2026-11-20                      # every project
    python scripts/run_pipeline.py demo silver --date 2026-11-20          # one layer
    python scripts/run_pipeline.py demo --transform trade_to_silver --date 2026-11-20
    python scripts/run_pipeline.py demo --date 2026-11-16 --to 2026-11-20 # a backfill, in order
    python scripts/run_pipeline.py demo gold --date 2026-11-19 --restate  # gold as known now
    python scripts/run_pipeline.py demo --date 2026-11-19 --reload        # the sources again

Gold for a date reads silver as of the date's system time, so a rerun reproduces what
was reported. ``--restate`` recomputes gold from what is known now (late amendments
included); the reported version stays readable (``gold.<table>__as_of(<system time>)``).

On ``--engine postgres`` transforms run side by side (``--workers``), each once its inputs
are done. Spark runs locally (MEDALLION_SPARK_MASTER=local[2]) unless a master is
configured.
Exit code 0 when every transform succeeded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from src._base.build.discovery import load_projects, select_projects
from src._base.build.project import check_env
from src._base.engines import check_engine
from src._base.pipeline.catalogue import LAYERS, load_catalogue
from src._base.pipeline.daily import (
    check_workers,
    date_range,
    default_workers,
    run_days,
    run_tenants,
)
from src._base.pipeline.report import render_results
from src.config import Settings
from src.utils.cli import run_main
from src.utils.connections import ensure_server
from src.utils.errors import PipelineError
from src.utils.spark import build_spark_session


def _body(args: argparse.Namespace, settings: Settings) -> int:
    if args.engine:
        settings = settings.model_copy(update={"engine": check_engine(args.engine)})
    if args.env:
        settings = settings.model_copy(update={"env": check_env(args.env)})
    workers = check_workers(settings.engine, args.workers or default_workers(settings.engine))
    projects, layers = split_targets(settings.src_path, args.targets)
    catalogues = [load_catalogue(settings.src_path, name) for name in projects]
    if args.transform and len(catalogues) > 1:  # the projects that have the named transforms
        catalogues = [c for c in catalogues if set(args.transform) & set(c.names())] or [
            catalogues[0]
        ]
    several = len(catalogues) > 1
    selected = {
        c.database: c.select(
            layers=layers,
            names=[n for n in args.transform if n in c.names()] if several else args.transform,
        )
        for c in catalogues
    }
    days = date_range(args.date, args.to)
    conn = ensure_server(settings)
    spark = build_spark_session(settings) if settings.engine == "spark" else None
    restated_at = datetime.now(UTC) if args.restate else None
    options = {
        "restated_at": restated_at,
        "workers": workers,
        "accept_partial": args.accept_partial,
        "reload": args.reload,
    }
    failed = []
    for name, transforms in selected.items():
        if not args.tenant:
            results = run_days(spark, settings, conn, name, days, transforms, **options)
            sys.stdout.write(render_results(results) + "\n")
            continue
        tenants = declared_tenants(settings, name) if "all" in args.tenant else args.tenant
        for run in run_tenants(spark, settings, conn, name, days, transforms, tenants, **options):
            sys.stdout.write(f"tenant {run.tenant}:\n{render_results(run.results)}\n")
            if run.error is not None:
                failed.append(f"{name}/{run.tenant}")
    if failed:
        raise PipelineError(
            f"Failed tenant run(s): {', '.join(failed)} (the others ran; see the errors above). "
            "Fix the cause and run those tenants again (--tenant NAME)."
        )
    return 0


def declared_tenants(settings: Settings, database: str) -> tuple[str, ...]:
    [project] = load_projects(settings.src_path, database)
    return project.tenants


def split_targets(src_path: Path, targets: Sequence[str]) -> tuple[list[str], list[str]]:
    """Projects and layers from the positionals; no project named: every one found."""
    layers = [t for t in targets if t in LAYERS]
    named = [t for t in targets if t not in LAYERS]
    projects = [p for name in named for p in select_projects(src_path, name)]
    return projects or sorted(select_projects(src_path, None)), layers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="project|layer",
        help="database projects (default: every one found) and layers: bronze, silver, gold "
        "(default: all)",
    )
    parser.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--to", type=date.fromisoformat, help="last date of a range, inclusive")
    parser.add_argument(
        "--transform", action="append", default=[], help="run only this transform (repeatable)"
    )
    parser.add_argument(
        "--restate",
        action="store_true",
        help="recompute gold from silver as known now; the reported version stays readable",
    )
    parser.add_argument(
        "--reload",
        action="store_true",
        help="bronze: load the date again and replace its published batch atomically (the "
        "silver and gold loads that read it run again)",
    )
    parser.add_argument(
        "--accept-partial",
        action="store_true",
        help="bronze: load a day that is not over yet (recorded as partial; the first run "
        "after the day is over loads it again)",
    )
    parser.add_argument("--engine", help="spark or postgres (default MEDALLION_ENGINE, spark)")
    parser.add_argument(
        "--tenant",
        action="append",
        default=[],
        help="run for this tenant, in its schemas (repeatable; 'all': every tenant the "
        "project declares); one tenant's failure does not stop the others",
    )
    parser.add_argument(
        "--env", help="environment: run in database <project>__<env> (default MEDALLION_ENV)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="transforms run side by side, each after its inputs (postgres engine; default: "
        "up to 4, one per core; spark: 1)",
    )
    parser.add_argument("--log-level", dest="log_level", default=None)
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

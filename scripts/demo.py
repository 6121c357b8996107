"""The main job (``make demo``): build the warehouse, generate a day's sources, run the pipeline.

1. Start (or reuse) the embedded PostgreSQL when no server is configured.
2. Build every database project (the same steps as ``orchestrate_build.py``).
3. Generate the demo's sources (operational database + Parquet bars) for the last
   ``--days`` days up to ``--date`` (default: the two trading days up to 2026-11-20).
4. Run the daily Airflow DAGs (bronze -> silver -> gold, quality checks included) for
   each day in order with ``dag.test()``: no scheduler, tasks on local Spark.
5. Print the DAG runs, rows per layer, rejected rows by rule and the run time.

Running it again changes nothing: loaded days are skipped or rerun idempotently.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta

from src._base.build.report import render_report
from src._base.build.steps import ALL_STEPS, BuildContext, run_steps
from src._base.engines import check_engine
from src.config import Settings
from src.demo.generator import SourceSpec
from src.demo.sources import generate_days
from src.demo.summary import render_summary
from src.orchestration.local_airflow import (
    OUTCOME_HEADER,
    print_progress,
    run_layers,
    use_local_airflow,
)
from src.utils.cli import run_main
from src.utils.connections import ensure_server
from src.utils.embedded_postgres import EmbeddedPostgres

log = logging.getLogger("demo")

DEFAULT_DATE = date(2026, 11, 20)  # a Friday


def trading_days(last: date, count: int) -> list[date]:
    """The ``count`` weekdays up to ``last``, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def _body(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    conn = ensure_server(settings)  # starts the embedded server if needed, checks the connection
    log.info("PostgreSQL reachable at %s", conn.describe())
    context = BuildContext(conn, settings.src_path, api_passfile=settings.api_passfile)
    results = run_steps(context, ALL_STEPS, None)
    sys.stdout.write(render_report(results) + "\n")
    if not all(r.ok for r in results):
        return 1
    days = trading_days(args.date, args.days)
    spec = SourceSpec(trades=args.trades, instruments=args.instruments)
    generate_days(settings, conn, days, spec)
    use_local_airflow(settings.airflow_home)
    sys.stdout.write(OUTCOME_HEADER + "\n")
    engine = check_engine(args.engine or settings.engine)
    outcomes = run_layers(days, database="demo", on_done=print_progress, engine=engine)
    elapsed = time.perf_counter() - started
    sys.stdout.write(render_summary(conn.with_database("demo"), days, elapsed) + "\n")
    if conn.embedded:
        hint = EmbeddedPostgres.from_settings(settings).psql_hint()
        log.info("connect with: %s -d demo   (stop the server with: make pg-stop)", hint)
    return 0 if all(o.ok for o in outcomes) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log_level", nargs="?", default=None, help="DEBUG, INFO, ...")
    parser.add_argument("--date", type=date.fromisoformat, default=DEFAULT_DATE)
    parser.add_argument("--days", type=int, default=2, help="trading days up to --date")
    parser.add_argument("--trades", type=int, default=SourceSpec().trades, help="per day")
    parser.add_argument("--instruments", type=int, default=SourceSpec().instruments)
    parser.add_argument("--engine", help="spark or postgres (default MEDALLION_ENGINE, spark)")
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

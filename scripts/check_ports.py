"""Prove a database project's ports offline: run each here and compare with the spark engine.

    python scripts/check_ports.py demo --date 2026-11-19 --to 2026-11-20

The spark engine loads ``<db>_check_spark`` for the dates (as check_engines.py does);
each target's generated port then runs here from the same inputs (databricks: with
PySpark's spark-pipelines, what it cannot run validated by a dry-run; snowflake: under
fakesnow) and every output table of every ported transform is compared by key. Prints one
row per transform, table and target: ran and equal (or the first differing keys), failed,
validated, or not ported and why. Exit code 0 when every ported transform is equal and
every validation passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from src._base.engines.equivalence import run_engine
from src._base.pipeline.daily import date_range
from src._base.ports import TARGETS, generate_port
from src._base.ports.proof import check_snowflake, proven, render_results
from src._base.ports.proof_databricks import check_databricks
from src.config import Settings
from src.orchestration.local_airflow import quality_rules, use_local_airflow
from src.utils.cli import run_main
from src.utils.connections import ensure_server
from src.utils.errors import ConfigError, PipelineError
from src.utils.spark import build_spark_session


def _body(args: argparse.Namespace, settings: Settings) -> int:
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        raise ConfigError(f"--keep {args.keep} is not empty: give a new or empty folder.")
    proofs = {
        "databricks": functools.partial(check_databricks, work_dir=args.keep),
        "snowflake": check_snowflake,
    }
    targets = args.target or list(TARGETS)
    rules = []
    if "databricks" in targets:  # its expectations: the rules the project's DAGs run
        use_local_airflow(settings.airflow_home)
        rules = quality_rules(args.database)
    ports = {target: generate_port(settings, args.database, target, rules) for target in targets}
    conn = ensure_server(settings)
    spark = build_spark_session(settings)
    days = date_range(args.date, args.to)
    started = time.perf_counter()
    warehouse, errors, _ = run_engine(settings, conn, args.database, "spark", days, spark)
    timings = [f"spark engine {time.perf_counter() - started:.1f} s"]
    if errors:
        raise PipelineError(
            "The spark engine failed, so there is nothing to compare with: "
            + "; ".join(f"{name}: {error}" for name, error in errors.items())
        )
    results = []
    for target, port in ports.items():
        started = time.perf_counter()
        results += proofs[target](settings, conn, args.database, days, spark, port, warehouse)
        timings.append(f"{target} port {time.perf_counter() - started:.1f} s")
    sys.stdout.write(render_results(results) + "\n")
    sys.stdout.write(f"{len(days)} date(s): {', '.join(timings)}\n")
    return 0 if proven(results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="database project, e.g. demo")
    parser.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--to", type=date.fromisoformat, help="last date of a range, inclusive")
    parser.add_argument("--target", action="append", choices=TARGETS, help="repeatable; all")
    parser.add_argument(
        "--keep", type=Path, default=None,
        help="databricks: keep its project, local catalog and spark-pipelines logs in this "
        "(new or empty) folder",
    )  # fmt: skip
    parser.add_argument("--log-level", dest="log_level", default=None)
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the daily DAGs locally without a scheduler, or start Airflow's UI.

    python scripts/airflow_local.py run --date 2026-11-20                   # all three layers
    python scripts/airflow_local.py run --date 2026-11-20 --layer silver    # one layer
    python scripts/airflow_local.py run --date 2026-11-16 --to 2026-11-20   # a backfill, in order
    python scripts/airflow_local.py standalone                              # the UI on :8080
    python scripts/airflow_local.py standalone --port 8090                  # another port
    python scripts/airflow_local.py standalone --spark-connect              # + Spark Connect
    python scripts/airflow_local.py --env dev run --date 2026-11-20         # in demo__dev
    python scripts/airflow_local.py trigger demo_bronze --date 2026-11-20   # in the running one
    python scripts/airflow_local.py clear demo_bronze --date 2026-11-20     # rerun failed tasks

``run`` executes each DAG with ``dag.test()`` (tasks in this process, one SparkSession
for all of them), date by date and layer by layer, and stops at the first failed run.
Airflow's home is .local/airflow (MEDALLION_AIRFLOW_HOME); its SQLite metadata database
is created on first use. ``run`` runs every discovered project's DAGs unless
``--database`` names one. ``--env`` (or MEDALLION_ENV) makes every task work in the
environment's databases (``demo__dev``): it reaches the tasks as MEDALLION_ENV, so one
Airflow deployment serves one environment. Exit code 0 when every run succeeded, 1
otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date

from src._base.build.project import check_env
from src._base.engines import check_engine
from src._base.pipeline.daily import date_range
from src.config import Settings
from src.orchestration.date_runs import clear_date, trigger_date
from src.orchestration.local_airflow import (
    LAYERS,
    OUTCOME_HEADER,
    dag_layers,
    print_progress,
    projects_with_dags,
    run_layers,
    use_local_airflow,
)
from src.orchestration.standalone import postgres_metadata, run_standalone
from src.utils.cli import run_main
from src.utils.connections import ensure_server
from src.utils.log import keep_project_logs
from src.utils.spark_connect import DEFAULT_PORT, connect_server


def _run(args: argparse.Namespace, settings: Settings) -> int:
    use_local_airflow(settings.airflow_home, settings.dags_folder)
    ensure_server(settings)
    sys.stdout.write(OUTCOME_HEADER + "\n")
    days = date_range(args.date, args.to)
    engine = check_engine(args.engine or settings.engine)
    outcomes = []
    for database in projects_with_dags(settings.src_path, args.database):
        layers = args.layer or dag_layers(database)
        outcomes += run_layers(
            days, layers, database=database, on_done=print_progress, engine=engine,
            log_level=args.log_level or settings.log_level,
        )  # fmt: skip
    return 0 if all(o.ok for o in outcomes) else 1


def _standalone(args: argparse.Namespace, settings: Settings) -> int:
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    metadata = ensure_server(settings) if args.metadata_db == "postgres" else None
    connect = None
    if args.spark_connect is not None:
        connect = connect_server(settings, port=args.spark_connect)
    return run_standalone(
        settings.airflow_home, settings.dags_folder, args.port, host=args.host,
        metadata=metadata, spark_connect=connect,
    )  # fmt: skip


def _metadata(args: argparse.Namespace, settings: Settings) -> None:
    """Point this process's Airflow at the running deployment's metadata database."""
    use_local_airflow(settings.airflow_home, settings.dags_folder)
    if args.metadata_db == "postgres":
        os.environ.update(postgres_metadata(ensure_server(settings)))
    import airflow.settings  # noqa: F401  (Airflow sets up its logging on import)

    keep_project_logs(args.log_level or settings.log_level)


def _trigger(args: argparse.Namespace, settings: Settings) -> int:
    _metadata(args, settings)
    engine = check_engine(args.engine) if args.engine else None
    for day in date_range(args.date, args.to):
        trigger_date(
            args.dag_id, day, reload=args.reload, accept_partial=args.accept_partial,
            engine=engine, again=args.again,
        )  # fmt: skip
    return 0


def _clear(args: argparse.Namespace, settings: Settings) -> int:
    _metadata(args, settings)
    clear_date(args.dag_id, args.date, every_task=args.all)
    return 0


COMMANDS = {"run": _run, "standalone": _standalone, "trigger": _trigger, "clear": _clear}


def _body(args: argparse.Namespace, settings: Settings) -> int:
    env = check_env(args.env or settings.env)
    if env:  # the tasks read their settings themselves: this is how they hear of it
        os.environ["MEDALLION_ENV"] = env
    return COMMANDS[args.command](args, settings)


def _metadata_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metadata-db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="where Airflow keeps its metadata: a SQLite file in its home (default), or the "
        "database 'airflow' on the project's PostgreSQL server (the embedded one by default)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run DAGs for a date or a range with dag.test()")
    run.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    run.add_argument("--to", type=date.fromisoformat, help="last date of a range, inclusive")
    run.add_argument(
        "--layer", action="append", choices=LAYERS, help="default: every layer with a DAG"
    )
    run.add_argument("--database", help="one project (default: every project with DAGs)")
    run.add_argument("--engine", help="spark or postgres (default MEDALLION_ENGINE, spark)")
    standalone = commands.add_parser(
        "standalone", help="start Airflow's UI, scheduler, DAG processor and triggerer here"
    )
    standalone.add_argument("--port", type=int, default=8080, help="the UI's port (8080)")
    _metadata_option(standalone)
    standalone.add_argument(
        "--host", default="127.0.0.1", help="the UI's address (127.0.0.1; 0.0.0.0 in a container)"
    )
    standalone.add_argument(
        "--spark-connect",
        type=int,
        nargs="?",
        const=DEFAULT_PORT,
        metavar="PORT",
        help="also run a Spark Connect server (on 127.0.0.1:PORT, default 15002) and point "
        "the tasks at it: Spark tasks start no JVM of their own",
    )
    trigger = commands.add_parser(
        "trigger", help="queue a run of a DAG for a data date in the running Airflow"
    )
    trigger.add_argument("dag_id")
    trigger.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    trigger.add_argument("--to", type=date.fromisoformat, help="last date of a range, inclusive")
    trigger.add_argument("--reload", action="store_true", help="bronze: replace the batch")
    trigger.add_argument("--accept-partial", action="store_true", help="bronze: a partial day")
    trigger.add_argument("--engine", help="spark or postgres (default: the deployment's)")
    trigger.add_argument("--again", action="store_true", help="even if the date has a run")
    _metadata_option(trigger)
    clear = commands.add_parser(
        "clear", help="run a date's failed tasks again (what the UI's Clear does)"
    )
    clear.add_argument("dag_id")
    clear.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    clear.add_argument("--all", action="store_true", help="every task, not only failed ones")
    _metadata_option(clear)
    parser.add_argument("--log-level", dest="log_level", default=None)
    parser.add_argument("--env", help="environment: work in <project>__<env> (MEDALLION_ENV)")
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

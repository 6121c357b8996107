"""Airflow's scheduler with the modules this project's tasks import already loaded.

    python -m src.orchestration.scheduler          # what `airflow_local.py standalone` runs

The LocalExecutor forks its workers from the scheduler's process, and each worker forks
one process per task, so whatever the scheduler has imported every task has for free.
Without this, each task imports the Spark Connect client (pandas, pyarrow, gRPC) and the
pipeline itself: about 1.8 s of CPU, paid again by every one of a day's 30 tasks, and on
a 2-core machine running four tasks at once that is most of a small load's time.

Only the framework and the libraries it runs on are loaded here, never a project's own
modules (tables, transforms, DAG files): those are read afresh by each task, so editing
them needs no restart. Upgrading the framework itself does, as upgrading Airflow does.
A module that cannot be imported is logged and left to the tasks, which then fail with
their own error: the scheduler always starts.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

log = logging.getLogger(__name__)

TASK_MODULES = (
    # what the Spark Connect client needs to open a session and build plans
    "pyspark.sql.connect.session",
    "pyspark.sql.connect.dataframe",
    "pyspark.sql.connect.functions",
    "pyarrow.parquet",
    # what the operators import when a task runs (src.orchestration.tasks)
    "src.orchestration.dag_factory",
    "src.orchestration.tasks",
    "src._base.engines",
    "src._base.pipeline.catalogue",
    "src._base.pipeline.daily",
    "src._base.pipeline.readiness",
    "src._base.quality.check",
    "src._base.build.project",
    "src.utils.connections",
    "src.utils.spark",
)


def preload(modules: Sequence[str] = TASK_MODULES) -> list[str]:
    """Import ``modules``; the names of those that failed (logged, not raised)."""
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # an optimisation only: the task will say what is wrong
            log.warning("not preloaded for the tasks: %s (%s: %s)", name, type(exc).__name__, exc)
            failed.append(name)
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    """Preload, then run ``airflow scheduler`` with ``argv`` as its arguments."""
    preload()
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", "scheduler", *(sys.argv[1:] if argv is None else argv)]
    airflow_main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the project's DAGs without a scheduler: ``dag.test()`` per layer and date.

Airflow's home is ``.local/airflow`` in the project (``MEDALLION_AIRFLOW_HOME``; git
ignores ``.local``), its metadata a SQLite file created on first use, its DAGs
``airflow/dags``. Airflow reads its configuration when first imported, so
:func:`use_local_airflow` must run before.

    use_local_airflow(settings.airflow_home)
    runs = run_layers([date(2026, 11, 20)], ("bronze", "silver", "gold"), database="demo")
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from src._base.build.project import DATA_LAYERS
from src.config import PROJECT_ROOT
from src.utils.errors import ConfigError, PipelineError
from src.utils.log import keep_project_logs

log = logging.getLogger(__name__)

DAGS_FOLDER = PROJECT_ROOT / "airflow" / "dags"
LAYERS = DATA_LAYERS


def dags_folder() -> Path:
    """The DAG folder Airflow is pointed at (:func:`use_local_airflow`): the project's
    ``airflow/dags`` unless MEDALLION_DAGS_FOLDER named another."""
    return Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", DAGS_FOLDER))


def airflow_environment(home: Path, dags: Path | None = None) -> dict[str, str]:
    """The variables that point Airflow at the project (no examples, SQLite metadata)."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags or DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        # task logs go to the console in dag.test(): Airflow's own lines from warnings up
        # (unless AIRFLOW__LOGGING__LOGGING_LEVEL says otherwise); the project's own lines
        # at the command's level (run_layers: keep_project_logs)
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get(
            "AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"
        ),
    }


def use_local_airflow(home: Path, dags: Path | None = None) -> None:
    """Point this process's Airflow at ``home`` (and the DAG folder ``dags``, default the
    project's); refuses once Airflow is configured."""
    wanted = airflow_environment(home, dags)
    if "airflow.configuration" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(home):
        raise ConfigError(
            f"Airflow was imported before its home was set to {home}; call "
            "use_local_airflow() first (Airflow reads its configuration on import)."
        )
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(wanted)


def ensure_metadata_db() -> None:
    """Create (or upgrade) the SQLite metadata database; quick when it exists."""
    from airflow.utils import db

    db.initdb()


@dataclass
class DagRunOutcome:
    dag_id: str
    day: date
    state: str
    failed_tasks: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == "success"


def quality_rules(database: str) -> list[Any]:
    """The data-quality rules ``database``'s DAGs run (their quality tasks' rules), in
    DAG and task order: what a port carries as expectations. Call
    :func:`use_local_airflow` first."""
    from airflow.dag_processing.dagbag import DagBag

    from src.orchestration.operators import QualityOperator

    bag = DagBag(dag_folder=str(dags_folder()))
    _refuse_import_errors(bag)
    return [
        rule
        for dag_id in sorted(bag.dags)
        for task in bag.dags[dag_id].tasks
        if isinstance(task, QualityOperator) and task.database == database
        for rule in task.rules
    ]


def _refuse_import_errors(bag: Any) -> None:
    if bag.import_errors:
        details = "; ".join(
            f"{f}: {e.strip().splitlines()[-1]}" for f, e in bag.import_errors.items()
        )
        raise PipelineError(f"DAG files failed to import: {details}")


def load_dag(dag_id: str):
    """The DAG ``dag_id`` from ``airflow/dags``; import errors are reported by file."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder()))
    _refuse_import_errors(bag)
    if dag_id not in bag.dags:
        raise PipelineError(
            f"No DAG '{dag_id}' in {dags_folder()} (found: {', '.join(sorted(bag.dags))})."
        )
    return bag.dags[dag_id]


def test_dag(dag_id: str, day: date, engine: str | None = None) -> DagRunOutcome:
    """One ``dag.test()`` run of ``dag_id`` for ``day`` (tasks run in this process)."""
    dag = load_dag(dag_id)
    started = time.perf_counter()
    logical = datetime(day.year, day.month, day.day, tzinfo=UTC)
    conf = {"date": day.isoformat(), **({"engine": engine} if engine else {})}
    run = dag.test(logical_date=logical, run_conf=conf)
    failed = sorted(
        ti.task_id for ti in run.get_task_instances() if ti.state in ("failed", "upstream_failed")
    )
    state = str(getattr(run.state, "value", run.state))
    outcome = DagRunOutcome(dag_id, day, state, failed, time.perf_counter() - started)
    log.info("%s for %s: %s in %.1fs%s", dag_id, day, outcome.state, outcome.seconds,
             f" (failed: {', '.join(failed)})" if failed else "")  # fmt: skip
    return outcome


def projects_with_dags(src_path: Path, database: str | None) -> list[str]:
    """The named project, or every discovered project that has a DAG file of its own
    (``airflow/dags/<layer>/<project>_<layer>.py``); none at all is an error."""
    from src._base.build.discovery import select_projects

    chosen = sorted(select_projects(src_path, database))
    found = [p for p in chosen if any(dags_folder().glob(f"*/{p}_*.py"))]
    if not found:
        raise ConfigError(
            f"No DAG files for {', '.join(chosen)} under {dags_folder()}: add "
            "airflow/dags/<layer>/<project>_<layer>.py (see the README, 'Add a project')."
        )
    return found


def dag_layers(database: str) -> list[str]:
    """The layers ``database`` has a daily DAG for (``<layer>/<database>_<layer>.py``)."""
    folder = dags_folder()
    return [layer for layer in LAYERS if (folder / layer / f"{database}_{layer}.py").is_file()]


def run_layers(
    days: Sequence[date],
    layers: Sequence[str] = LAYERS,
    *,
    database: str = "demo",
    on_done: Callable[[DagRunOutcome], None] | None = None,
    engine: str | None = None,
    log_level: str | int = "INFO",
) -> list[DagRunOutcome]:
    """Each date in order, each layer's DAG in order; stops at the first failed run.

    ``on_done`` hears of each run as it finishes (to print progress); ``engine`` goes to
    the runs' conf (default: the tasks' ``MEDALLION_ENGINE``). The tasks' own lines
    (dates, rows read / written / rejected, what was published) show at ``log_level``.
    """
    ensure_metadata_db()
    keep_project_logs(log_level)  # Airflow's logging set-up has replaced the command's
    outcomes: list[DagRunOutcome] = []
    for day in days:
        for layer in layers:
            outcome = test_dag(f"{database}_{layer}", day, engine)
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
            if not outcome.ok:
                return outcomes
    return outcomes


OUTCOME_HEADER = f"{'DAG':<14} {'date':<11} {'state':<8} {'time':>7}  failed tasks"


def outcome_line(outcome: DagRunOutcome) -> str:
    return (
        f"{outcome.dag_id:<14} {outcome.day.isoformat():<11} {outcome.state:<8} "
        f"{outcome.seconds:>6.1f}s  " + ", ".join(outcome.failed_tasks)
    )


def render_outcomes(outcomes: Sequence[DagRunOutcome]) -> str:
    return "\n".join([OUTCOME_HEADER, *map(outcome_line, outcomes)])


def print_progress(outcome: DagRunOutcome) -> None:
    """``on_done`` for command lines: one line per DAG run as it finishes."""
    sys.stdout.write(outcome_line(outcome) + "\n")
    sys.stdout.flush()

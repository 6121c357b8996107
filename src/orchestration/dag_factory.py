"""Build a layer's daily DAG from task specs, validated before any DAG object exists.

    dag = dag_factory(                                 # airflow/dags/silver/demo_silver.py
        dag_id="demo_silver",
        database="demo",                              # layer: the file's folder, "silver"
        schedule=[layer_asset("demo", "bronze")],     # runs when bronze publishes a date
        tasks=[
            ETLTask("trade_to_silver", transform="trade_to_silver.py"),
            QualityTask("dq_trade_nulls", checks=[NotNull(...)], after=["trade_to_silver"]),
        ],
    )

Loads are named ``<source>_to_<layer>``, quality tasks ``dq_<entity>_<rule>``. Loads follow
each other as their transform files' ``AFTER`` lists say (read without importing them);
a quality task runs after the loads it names (default: all of the DAG's loads). The DAG
ends with ``<layer>_published``, which runs only when every task succeeded and emits the
layer's asset with the dates done: a failed check stops the downstream layers.
"""

from __future__ import annotations

import ast
import difflib
import graphlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import (
    DAG,
    Asset,
    CronDataIntervalTimetable,
    ExceptionRetryPolicy,
    RetryAction,
    RetryDecision,
    RetryRule,
)

from src._base.build.project import DATA_LAYERS
from src.orchestration.operators import PublishLayerOperator, QualityOperator, TransformOperator
from src.utils.errors import DagSpecError, MedallionError

SRC_PATH = Path(__file__).resolve().parents[1]
LAYERS = DATA_LAYERS
QUALITY_NAME = re.compile(r"dq_[a-z][a-z0-9]*(_[a-z0-9]+)+")
DEFAULT_START = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ETLTask:
    """Run ``src/<database>/transforms/<layer>/<transform>`` (default ``<name>.py``)."""

    name: str
    transform: str | None = None
    after: Sequence[str] = ()

    @property
    def file(self) -> str:
        return self.transform or f"{self.name}.py"


@dataclass(frozen=True)
class QualityTask:
    """Data-quality rules (``src._base.quality.rules``) run after the loads they check."""

    name: str
    checks: Sequence[Any] = field(default_factory=tuple)
    after: Sequence[str] | None = None  # None: after every load of the DAG


def _transient() -> list[Any]:
    import psycopg2

    return [
        psycopg2.OperationalError,
        ConnectionError,
        TimeoutError,
        "py4j.protocol.Py4JNetworkError",
    ]


class _TransientOnly(ExceptionRetryPolicy):
    """Retry what may pass on a second try; fail at once what will fail the same way.

    Project errors say which they are (``MedallionError.transient``: an unreachable
    server is, a refused date or a failed check is not); other exceptions go by the rules.
    """

    def evaluate(self, exception, try_number, max_tries, context=None):
        if isinstance(exception, MedallionError):
            if exception.transient:
                return RetryDecision.retry(reason=f"transient: {exception}")
            return RetryDecision.fail(reason=f"{type(exception).__name__} is not transient")
        return super().evaluate(exception, try_number, max_tries, context)


def retry_policy() -> ExceptionRetryPolicy:
    return _TransientOnly(
        rules=[RetryRule(exception=_transient(), action=RetryAction.RETRY)],
        default=RetryAction.FAIL,
    )


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def layer_asset(database: str, layer: str) -> Asset:
    """The asset a layer's DAG emits when it has published a date."""
    return Asset(uri=f"medallion://{database}/{layer}", name=f"{database}_{layer}")


def _fail(dag_file: str, dag_id: str, message: str) -> DagSpecError:
    return DagSpecError(f"{dag_file}: DAG '{dag_id}': {message}")


def _declared_after(path: Path) -> tuple[str, ...]:
    """A transform file's ``AFTER`` tuple, read with ``ast`` (no Spark import at parse)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "AFTER" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    return ()


def validate_tasks(
    dag_file: str, dag_id: str, database: str, layer: str, tasks: Sequence[Any]
) -> dict[str, set[str]]:
    """Check every spec; return ``{task: upstream tasks}``. Raises :class:`DagSpecError`."""
    folder = SRC_PATH / database / "transforms" / layer
    if layer not in LAYERS:
        raise _fail(dag_file, dag_id, f"unknown layer '{layer}' (layers: {', '.join(LAYERS)})")
    if not folder.is_dir():
        raise _fail(dag_file, dag_id, f"no transforms folder {folder} for database '{database}'")
    names = [t.name for t in tasks]
    for name in names:
        if names.count(name) > 1:
            raise _fail(dag_file, dag_id, f"task '{name}' is declared twice; names are unique")
    loads = [t.name for t in tasks if isinstance(t, ETLTask)]
    upstream = {t.name: _upstream(dag_file, dag_id, folder, layer, t, loads, names) for t in tasks}
    try:
        graphlib.TopologicalSorter(upstream).prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise _fail(dag_file, dag_id, f"tasks depend on each other in a cycle: {cycle}") from None
    return upstream


def _known(dag_file: str, dag_id: str, task: Any, before: set[str], allowed: list[str]) -> set[str]:
    unknown = sorted(before - set(allowed))
    if unknown:
        raise _fail(dag_file, dag_id, f"'{task.name}' runs after unknown task(s) {unknown}")
    return before


def _upstream(
    dag_file: str,
    dag_id: str,
    folder: Path,
    layer: str,
    task: Any,
    loads: list[str],
    names: list[str],
) -> set[str]:
    """The task's upstream tasks, after checking its spec: a load follows only loads (its
    transform's ``AFTER`` and its own ``after``), a quality task any task of the DAG."""
    if isinstance(task, ETLTask):
        if not re.fullmatch(rf"[a-z][a-z0-9_]*_to_{layer}", task.name):
            raise _fail(dag_file, dag_id, f"load '{task.name}' must be named <source>_to_{layer}")
        path = folder / task.file
        if not path.is_file():
            known = sorted(p.name for p in folder.glob("[!_]*.py"))
            hint = difflib.get_close_matches(task.file, known, n=1)
            did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
            raise _fail(
                dag_file,
                dag_id,
                f"transform file {path} does not exist.{did_you_mean} Known: {', '.join(known)}",
            )
        declared = {a for a in _declared_after(path) if a in loads}
        return _known(dag_file, dag_id, task, declared | set(task.after), loads)
    if isinstance(task, QualityTask):
        if not QUALITY_NAME.fullmatch(task.name):
            raise _fail(
                dag_file, dag_id, f"quality task '{task.name}' must be named dq_<entity>_<rule>"
            )
        if not task.checks:
            raise _fail(dag_file, dag_id, f"quality task '{task.name}' has no checks")
        before = set(loads if task.after is None else task.after)
        return _known(dag_file, dag_id, task, before, names)
    raise _fail(dag_file, dag_id, f"{task!r} is neither an ETLTask nor a QualityTask")


def _caller_file() -> str:
    """The DAG file calling the factory, for error messages."""
    return sys._getframe(2).f_code.co_filename


def dag_factory(
    *,
    dag_id: str,
    database: str,
    tasks: Sequence[Any],
    layer: str | None = None,
    schedule: str | Sequence[Asset] | None = "@daily",
    default_args: dict[str, Any] | None = None,
    start_date: datetime = DEFAULT_START,
    max_active_runs: int = 1,
    doc_md: str | None = None,
    dag_file: str | None = None,
) -> DAG:
    """A validated DAG for one layer of ``database``; see the module docstring.

    ``layer`` defaults to the DAG file's folder (``airflow/dags/<layer>/<file>.py``).
    """
    dag_file = dag_file or _caller_file()
    layer = layer or Path(dag_file).parent.name
    upstream = validate_tasks(dag_file, dag_id, database, layer, tasks)
    if isinstance(schedule, str):
        # A data-interval timetable: the run for day D starts after D ends and its
        # logical date is D, the day it processes.
        schedule = CronDataIntervalTimetable(schedule, timezone="UTC")
    args = {**DEFAULT_ARGS, "retry_policy": retry_policy(), **(default_args or {})}
    with DAG(
        dag_id=dag_id,
        schedule=schedule,
        start_date=start_date,
        catchup=False,
        max_active_runs=max_active_runs,
        default_args=args,
        tags=[database, layer],
        doc_md=doc_md,
    ) as dag:
        operators = {t.name: _operator(t, database, layer) for t in tasks}
        for name, before in upstream.items():
            for other in sorted(before):
                operators[other] >> operators[name]
        published = PublishLayerOperator(
            task_id=f"{layer}_published", asset=layer_asset(database, layer)
        )
        for operator in operators.values():
            operator >> published
    return dag


def _operator(task: Any, database: str, layer: str) -> Any:
    if isinstance(task, ETLTask):
        return TransformOperator(
            task_id=task.name, database=database, layer=layer, transform=task.file[:-3]
        )
    return QualityOperator(task_id=task.name, database=database, rules=task.checks)

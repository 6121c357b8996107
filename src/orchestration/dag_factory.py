"""Build a layer's daily DAG from the transform catalogue and quality specs.

    dag = dag_factory(                                 # airflow/dags/silver/demo_silver.py
        dag_id="demo_silver",
        database="demo",                              # layer: the file's folder, "silver"
        schedule=[layer_asset("demo", "bronze")],     # runs when bronze publishes a date
        tasks=[QualityTask("dq_trade_nulls", checks=[NotNull(...)], after=["trade_to_silver"])],
    )

Every transform of the layer (``src/<database>/transforms/<layer>/``) becomes a load task,
ordered by its declared inputs of the same layer: the catalogue is the one place that
says which loads exist, so none can be left out of its DAG. A DAG file adds what only it
knows: the schedule and the quality tasks (named ``dq_<entity>_<rule>``), each run after
the loads it names (default: all of the DAG's loads). The DAG ends with
``<layer>_published``, which runs only when every task succeeded and emits the layer's
asset with the dates done: a failed check stops the downstream layers.
"""

from __future__ import annotations

import graphlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import (
    DAG,
    Asset,
    AssetAny,
    CronDataIntervalTimetable,
    ExceptionRetryPolicy,
    RetryAction,
    RetryDecision,
    RetryRule,
    TaskGroup,
)

from src._base.build.discovery import load_projects
from src._base.pipeline.catalogue import Catalogue, load_layer
from src._base.pipeline.shapes import BronzeAppend
from src._base.pipeline.tenancy import for_tenant
from src.config import load_settings
from src.orchestration.operators import (
    CollectPricesOperator,
    PublishLayerOperator,
    QualityOperator,
    SourceLoadOperator,
    TransformOperator,
)
from src.utils.errors import DagSpecError, MedallionError

QUALITY_NAME = re.compile(r"dq_[a-z][a-z0-9]*(_[a-z0-9]+)+")
DEFAULT_START = datetime(2026, 11, 1, tzinfo=UTC)


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


def layer_asset(database: str, layer: str, tenant: str | None = None) -> Asset:
    """The asset a layer's DAG emits when it has published a date (a tenant's: when it
    has published the tenant's date)."""
    if tenant is None:
        return Asset(uri=f"medallion://{database}/{layer}", name=f"{database}_{layer}")
    return Asset(
        uri=f"medallion://{database}/{layer}/{tenant}", name=f"{database}_{layer}_{tenant}"
    )


def tenant_schedule(schedule: Any, tenants: Sequence[str]) -> Any:
    """A schedule on upstream layers' assets, for a project with tenants: any tenant's
    asset starts a run (its tasks run that tenant's dates; the others skip)."""
    if not tenants or isinstance(schedule, str) or schedule is None:
        return schedule
    expanded = []
    for asset in schedule:
        database, layer = asset.uri.removeprefix("medallion://").split("/")[:2]
        expanded += [layer_asset(database, layer, tenant) for tenant in tenants]
    return AssetAny(*expanded)


def _fail(dag_file: str, dag_id: str, message: str) -> DagSpecError:
    return DagSpecError(f"{dag_file}: DAG '{dag_id}': {message}")


def validate_tasks(
    dag_file: str, dag_id: str, catalogue: Catalogue, tasks: Sequence[Any]
) -> dict[str, set[str]]:
    """Check the quality specs against the layer's loads; return ``{task: upstream}``."""
    loads = catalogue.names()
    upstream: dict[str, set[str]] = {e.name: set(catalogue.after(e)) for e in catalogue.entries}
    for task in tasks:
        if not isinstance(task, QualityTask):
            raise _fail(
                dag_file,
                dag_id,
                f"{task!r} is not a QualityTask; loads come from the "
                "transform catalogue (every transform of the layer is a load task)",
            )
        if task.name in upstream:
            raise _fail(dag_file, dag_id, f"task '{task.name}' is declared twice; names are unique")
        upstream[task.name] = _quality_upstream(dag_file, dag_id, task, loads)
    unknown = {name for task in tasks for name in (task.after or ())} - set(upstream)
    if unknown:
        raise _fail(dag_file, dag_id, f"tasks run after unknown task(s) {sorted(unknown)}")
    try:
        graphlib.TopologicalSorter(upstream).prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise _fail(dag_file, dag_id, f"tasks depend on each other in a cycle: {cycle}") from None
    return upstream


def _quality_upstream(dag_file: str, dag_id: str, task: QualityTask, loads: list[str]) -> set[str]:
    if not QUALITY_NAME.fullmatch(task.name):
        raise _fail(
            dag_file, dag_id, f"quality task '{task.name}' must be named dq_<entity>_<rule>"
        )
    if not task.checks:
        raise _fail(dag_file, dag_id, f"quality task '{task.name}' has no checks")
    return set(loads if task.after is None else task.after)


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
    src_path: Path | None = None,
    wait_for_sources: timedelta | None = None,
    poke_interval: timedelta | None = None,
) -> DAG:
    """A validated DAG for one layer of ``database``; see the module docstring.

    ``layer`` defaults to the DAG file's folder (``airflow/dags/<layer>/<file>.py``);
    ``src_path`` to the configured one (``MEDALLION_SRC_PATH``, else the repo's ``src``).
    Each bronze load waits for its source first (:class:`~src.orchestration.operators.
    SourceLoadOperator`: it reschedules itself, checking every ``poke_interval``) up to
    ``wait_for_sources``; by default the settings' ``MEDALLION_SOURCE_WAIT`` (12 hours;
    0: loads do not wait) and ``MEDALLION_SOURCE_POKE``.
    """
    dag_file = dag_file or _caller_file()
    layer = layer or Path(dag_file).parent.name
    try:
        catalogue = load_layer(src_path or load_settings().src_path, database, layer)
    except MedallionError as exc:
        raise _fail(dag_file, dag_id, str(exc)) from None
    upstream = validate_tasks(dag_file, dag_id, catalogue, tasks)
    [project] = load_projects(src_path or load_settings().src_path, database)
    schedule = tenant_schedule(schedule, project.tenants)
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
        waiting = _waiting(wait_for_sources, poke_interval)
        if not project.tenants:
            _layer_tasks(database, layer, catalogue, tasks, upstream, waiting=waiting)
        for tenant in project.tenants:  # a group per tenant: a failure stops its own only
            with TaskGroup(group_id=tenant):
                own = [replace(t, checks=tenant_rules(t.checks, tenant, project)) for t in tasks]
                _layer_tasks(database, layer, catalogue, own, upstream, tenant, waiting)
    return dag


def _waiting(
    timeout: timedelta | None, every: timedelta | None
) -> tuple[timedelta | None, timedelta]:
    settings = load_settings()
    if timeout is None and settings.source_wait:
        timeout = timedelta(seconds=settings.source_wait)
    return timeout, every or timedelta(seconds=settings.source_poke)


def tenant_rules(rules: Sequence[Any], tenant: str, project: Any) -> list[Any]:
    """Quality rules as they check ``tenant``: on its schemas."""
    return [for_tenant(rule, tenant, project.tenant_layers) for rule in rules]


def _layer_tasks(
    database: str,
    layer: str,
    catalogue: Catalogue,
    tasks: Sequence[QualityTask],
    upstream: dict[str, set[str]],
    tenant: str | None = None,
    waiting: tuple[timedelta | None, timedelta] = (None, timedelta(minutes=5)),
) -> None:
    """The loads, checks and publication of one layer (of one tenant), in the open DAG;
    ``waiting``: how long a bronze load waits for its source, and how often it checks."""
    timeout, every = waiting
    operators: dict[str, Any] = {}
    for entry in catalogue.entries:
        names = {"task_id": entry.name, "database": database, "layer": layer,
                 "transform": entry.name, "tenant": tenant}  # fmt: skip
        if isinstance(entry.spec, BronzeAppend) and timeout is not None:
            operators[entry.name] = SourceLoadOperator(
                **names, timeout=timeout, poke_interval=every
            )
        else:
            operators[entry.name] = TransformOperator(**names)
    operators |= {
        t.name: QualityOperator(task_id=t.name, database=database, rules=t.checks, tenant=tenant)
        for t in tasks
    }
    for name, before in upstream.items():
        for other in sorted(before):
            operators[other] >> operators[name]
    published = PublishLayerOperator(
        task_id=f"{layer}_published", asset=layer_asset(database, layer, tenant), tenant=tenant
    )
    for operator in operators.values():
        operator >> published


def price_collector_dag(*, dag_id: str, database: str, doc_md: str | None = None) -> DAG:
    """The minute price collector as a DAG: one run a minute, each pricing its minute
    (:class:`~src.orchestration.operators.CollectPricesOperator`). Paused when first
    seen: an option, switched on by unpausing it once MEDALLION_COLLECT_SYMBOLS is set."""
    with DAG(
        dag_id=dag_id,
        schedule="* * * * *",
        start_date=DEFAULT_START,
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=True,
        default_args={"retries": 0},
        tags=[database, "bronze", "prices"],
        doc_md=doc_md,
    ) as dag:
        CollectPricesOperator(task_id="collect_prices", database=database)
    return dag

"""Start, find and rerun a DAG's runs by data date, in a running Airflow's metadata.

    run_id = trigger_date("demo_bronze", date(2026, 11, 20))             # data__2026-11-20__1
    trigger_date("demo_bronze", date(2026, 11, 20))                       # refused: it has one
    clear_date("demo_bronze", date(2026, 11, 20))                         # rerun failed tasks

A triggered run is named and noted by its data date (run id ``data__<date>__<n>``, note
``data <date>``), carries the date in its conf and has no logical date, so triggering a
date a scheduled run already had is not a duplicate-key error. A date that already has a
run is refused, naming it and the two ways on: clear it (its failed tasks run again, as
the UI's Clear does), or ``again=True`` for another run (loads are idempotent; with
``reload`` bronze replaces its batch). Call with Airflow's environment set (its metadata
database): ``airflow_local.py trigger`` / ``clear`` do.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from src.orchestration.run_labels import label
from src.utils.errors import PipelineError

log = logging.getLogger(__name__)

RUN_PREFIX = "data__"
FAILED = ("failed", "upstream_failed")


NO_METADATA = (
    "is Airflow running on it (airflow_local.py standalone), and does the deployment keep "
    "its metadata in PostgreSQL (then add --metadata-db postgres, as for `make airflow-ui`)?"
)


def _require_metadata(session: Any) -> None:
    """Fail in one line when the metadata database has no Airflow tables yet."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        session.execute(text("SELECT 1 FROM dag_run WHERE 1 = 0")).all()
    except DBAPIError:
        session.rollback()
        raise PipelineError(
            f"Airflow's metadata database has no runs table: {NO_METADATA}"
        ) from None


def _runs_for(session: Any, dag_id: str, day: date) -> list[Any]:
    """The DAG's runs of ``day``: triggered by date (their run id), scheduled for it
    (their logical date) or noted with it (silver and gold runs, by the labeller)."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    _require_metadata(session)
    runs = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id)).all()
    return [
        run
        for run in runs
        if run.run_id.startswith(f"{RUN_PREFIX}{day.isoformat()}__")
        or (run.logical_date is not None and run.logical_date.date() == day)
        or (run.note or "").split(", ")[0] == f"data {day.isoformat()}"
    ]


def trigger_date(
    dag_id: str,
    day: date,
    *,
    reload: bool = False,
    accept_partial: bool = False,
    engine: str | None = None,
    again: bool = False,
) -> str:
    """Queue a run of ``dag_id`` for ``day``; its run id."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import DagNotFound
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType

    conf: dict[str, Any] = {"date": day.isoformat()}
    conf |= {k: True for k, on in (("reload", reload), ("accept_partial", accept_partial)) if on}
    if engine:
        conf["engine"] = engine
    with create_session() as session:
        existing = _runs_for(session, dag_id, day)
        if existing and not again:
            run = existing[-1]
            raise PipelineError(
                f"{dag_id} already has a run for {day} ({run.run_id}, {run.state}). To run "
                f"its failed tasks again, clear them: in the UI open the run and press Clear, "
                f"or `airflow_local.py clear {dag_id} --date {day}`. To start another run of "
                f"the date: --again (with --reload, bronze replaces the date's batch)."
            )
        run_id = f"{RUN_PREFIX}{day.isoformat()}__{len(existing) + 1}"
        try:
            trigger_dag(
                dag_id, triggered_by=DagRunTriggeredByType.CLI, run_id=run_id, conf=conf,
                logical_date=None, note=label([day.isoformat()], conf), session=session,
            )  # fmt: skip
        except DagNotFound:
            raise PipelineError(
                f"Airflow has no DAG '{dag_id}' in this metadata database (has its DAG "
                f"processor parsed the DAG files yet?): {NO_METADATA}"
            ) from None
    log.info("queued %s for %s: run %s", dag_id, day, run_id)
    return run_id


def clear_date(dag_id: str, day: date, *, every_task: bool = False) -> list[str]:
    """Clear the failed tasks (``every_task``: all tasks) of ``dag_id``'s latest run of
    ``day``, so the scheduler runs them again; the task ids cleared."""
    from airflow.models.taskinstance import clear_task_instances
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = _runs_for(session, dag_id, day)
        if not runs:
            raise PipelineError(
                f"{dag_id} has no run for {day}: start one with "
                f"`airflow_local.py trigger {dag_id} --date {day}`."
            )
        run = max(runs, key=lambda r: r.id)
        tis = [ti for ti in run.get_task_instances(session=session)
               if every_task or ti.state in FAILED]  # fmt: skip
        if not tis:
            raise PipelineError(
                f"{dag_id}'s run {run.run_id} for {day} has no failed task ({run.state}); "
                "--all clears every task to run the date again."
            )
        clear_task_instances(tis, session)
    cleared = sorted(ti.task_id for ti in tis)
    log.info("cleared %s for %s (run %s): %s; the scheduler runs them again", dag_id, day,
             run.run_id, ", ".join(cleared))  # fmt: skip
    return cleared

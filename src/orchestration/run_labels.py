"""Label each DAG run with the data date(s) it processes, as its note in Airflow's UI.

A run's data date is in its conf (``{"date": ...}``: a manual run, a rerun) or in the
asset events that started it (silver and gold runs: the dates the upstream layer
published); Airflow names such runs by trigger time (``asset_triggered__<now>``). The
labeller gives each run without a note one: ``data 2026-11-20`` (scheduled daily runs
already carry theirs in the run id). It runs beside Airflow's components
(``airflow_local.py standalone`` starts it) and only writes notes, through Airflow's own
models, never a note someone wrote.

    python -m src.orchestration.run_labels          # with Airflow's environment set
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

LABEL_PREFIX = "data "


def run_data_dates(conf: dict[str, Any] | None, event_extras: Sequence[Any]) -> list[str]:
    """The dates a run processes, as the tasks find them (operators.run_dates): the
    conf's date, else every date its triggering asset events carried."""
    if conf and conf.get("date"):
        return [str(conf["date"])]
    dates = {
        str(day)
        for extra in event_extras
        if isinstance(extra, dict)
        for day in extra.get("dates", [])
    }
    return sorted(dates)


def label(dates: Sequence[str], conf: dict[str, Any] | None) -> str:
    """``data 2026-11-20`` (``, reload`` / ``, partial accepted`` when the conf asked)."""
    extras = [
        word
        for key, word in (("reload", "reload"), ("accept_partial", "partial accepted"))
        if (conf or {}).get(key)
    ]
    return LABEL_PREFIX + ", ".join([*dates, *extras])


def label_runs(limit: int = 500) -> int:
    """Note the latest ``limit`` runs that have no note and whose dates are known; how
    many were labelled."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    labelled = 0
    with create_session() as session:
        unnoted = select(DagRun).where(~DagRun.dag_run_note.has())
        runs = session.scalars(unnoted.order_by(DagRun.id.desc()).limit(limit)).all()
        for run in runs:
            extras = [event.extra for event in run.consumed_asset_events]
            dates = run_data_dates(run.conf, extras)
            if dates:
                run.note = label(dates, run.conf)
                labelled += 1
    return labelled


def watch(every: float = 5.0, stop: threading.Event | None = None) -> None:
    """Label new runs every ``every`` seconds until ``stop`` is set (or SIGTERM)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    while not stop.is_set():
        try:
            if labelled := label_runs():
                log.info("labelled %d run(s) with their data dates", labelled)
        except Exception:  # the metadata database is restarting: try again next time
            log.warning("could not label runs this time", exc_info=True)
        stop.wait(every)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    watch()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

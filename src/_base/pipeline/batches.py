"""The load log protocol: begin, publish (in the caller's transaction), fail, check.

Before a load starts, its claim (:func:`~src._base.pipeline.claims.claim_load`) finds its
inputs' published batches (:func:`require_inputs`) and, for history loads, checks the date
order (:func:`require_in_order`).

begin_batch(raw, job, day, batch_id)        # 'running', attempts + 1
... write, then in the publishing transaction:
finish_batch(cur, job, day, read=..., written=..., rejected=...)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from src._base.functions.load_log import LOAD_LOG
from src._base.pipeline.run_config import RunConfig
from src.utils.errors import PipelineError


def begin_batch(raw, job: str, day: date, batch_id: uuid.UUID) -> None:
    with raw.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {LOAD_LOG} AS l (job, logical_date, batch_id, status)
VALUES (%s, %s, %s, 'running')
ON CONFLICT (job, logical_date) DO UPDATE SET status = 'running', batch_id = excluded.batch_id,
    attempts = l.attempts + 1, started_at = clock_timestamp(), finished_at = NULL,
    message = NULL, accepted = NULL""",
            (job, day, str(batch_id)),
        )
    raw.commit()


def finish_batch(
    cur,
    job: str,
    day: date,
    *,
    read: int,
    written: int,
    rejected: int,
    accepted: str | None = None,
    note: str | None = None,
) -> None:
    """Publish the batch (in the caller's transaction); ``accepted``: what the load took
    that a complete day would not have (a partial day), recorded with it; ``note``: the
    message kept with it (which snapshot was read)."""
    cur.execute(
        f"""UPDATE {LOAD_LOG} SET status = 'succeeded', rows_read = %s, rows_written = %s,
    rows_rejected = %s, finished_at = clock_timestamp(), accepted = %s, message = %s
WHERE job = %s AND logical_date = %s""",
        (read, written, rejected, accepted, note, job, day),
    )


def fail_batch(raw, job: str, day: date, message: str) -> None:
    raw.rollback()
    with raw.cursor() as cur:
        cur.execute(
            f"""UPDATE {LOAD_LOG} SET status = 'failed', finished_at = clock_timestamp(),
    message = left(%s, 2000) WHERE job = %s AND logical_date = %s""",
            (message, job, day),
        )
    raw.commit()


def note_failed_replacement(raw, job: str, day: date, message: str) -> None:
    """A replacement (``--reload``) that failed: the published batch stays the earlier
    one, still ``succeeded``; the message says what happened to the attempt."""
    raw.rollback()
    with raw.cursor() as cur:
        cur.execute(
            f"""UPDATE {LOAD_LOG} SET message = left(%s, 2000)
WHERE job = %s AND logical_date = %s""",
            (f"a reload failed at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC, the earlier batch "
             f"stays published: {message}", job, day),
        )  # fmt: skip
    raw.commit()


def batch_state(raw, job: str, day: date) -> tuple[str | None, str | None]:
    """The load's status and what it accepted (None, None: never run)."""
    with raw.cursor() as cur:
        cur.execute(
            f"SELECT status, accepted FROM {LOAD_LOG} WHERE job = %s AND logical_date = %s",
            (job, day),
        )
        row = cur.fetchone()
    return (row[0], row[1]) if row else (None, None)


def require_bronze_day(cfg: RunConfig, name: str) -> str | None:
    """A bronze load's date must be over: its sources may still change. With
    ``cfg.accept_partial`` the day so far is loaded instead; returns what was accepted."""
    now = datetime.now(UTC)
    if cfg.system_time <= now:
        return None
    if not cfg.accept_partial:
        raise PipelineError(
            f"{name} for {cfg.logical_date}: the day is not over yet (it ends "
            f"{cfg.system_time:%Y-%m-%d %H:%M} UTC), so its sources may still change. Run it "
            "after that, or pass --accept-partial to load what is there now (recorded as a "
            "partial day, and loaded again by the first run after the day is over)."
        )
    return f"partial day: loaded at {now:%Y-%m-%d %H:%M:%S} UTC, before the day was over"


def batch_status(raw, job: str, day: date) -> str | None:
    with raw.cursor() as cur:
        cur.execute(
            f"SELECT status FROM {LOAD_LOG} WHERE job = %s AND logical_date = %s", (job, day)
        )
        row = cur.fetchone()
    return row[0] if row else None


def succeeded_batch(raw, job: str, day: date) -> uuid.UUID | None:
    with raw.cursor() as cur:
        cur.execute(
            f"""SELECT batch_id FROM {LOAD_LOG}
WHERE job = %s AND logical_date = %s AND status = 'succeeded'""",
            (job, day),
        )
        row = cur.fetchone()
    return uuid.UUID(str(row[0])) if row else None


def require_inputs(raw, job: str, day: date, inputs: Iterable[str]) -> dict[str, uuid.UUID]:
    """The published batch of each input job for ``day``; refuses when one is missing."""
    batches = {name: succeeded_batch(raw, name, day) for name in inputs}
    missing = sorted(name for name, batch in batches.items() if batch is None)
    if missing:
        raise PipelineError(
            f"{job} for {day}: input load(s) {', '.join(missing)} have not succeeded for "
            f"{day}. Run them first, e.g. scripts/run_pipeline.py <database> <layer> "
            f"--date {day}."
        )
    return batches  # type: ignore[return-value]


def require_in_order(raw, job: str, day: date) -> str | None:
    """Check a history-keeping job's date against the latest one it has published.

    The latest date or the next one may run (rerunning the latest is idempotent). A later
    date is refused: the dates between were never loaded, and their changes would be
    stamped with a later date. An earlier date that was loaded is already part of the
    history: returns why to skip it. An earlier date never loaded is refused: its versions
    would have to go before versions that already exist. Callers hold the job's claim, so
    nothing can load in between.
    """
    with raw.cursor() as cur:
        cur.execute(
            f"""SELECT max(logical_date) FROM {LOAD_LOG}
WHERE job = %s AND status = 'succeeded'""",
            (job,),
        )
        (latest,) = cur.fetchone()
    if latest is None or latest <= day <= latest + timedelta(days=1):
        return None
    if day > latest:
        raise PipelineError(_gap_message(job, day, latest))
    if batch_status(raw, job, day) == "succeeded":
        return f"{day} is already part of the history (loaded up to {latest})"
    raise PipelineError(
        f"{job} for {day}: refused, history is already loaded up to {latest} and {day} was "
        "never loaded. Silver keeps history in system time, so days load in order: "
        "rebuild the warehouse (orchestrate_build.py --rebuild) and replay the days in "
        f"order, or load {day}'s data with a later date."
    )


def require_current(raw, job: str, day: date, inputs: Iterable[str]) -> None:
    """A history load's date that is already part of the history, checked against its
    inputs: one published again after it (``--reload``) would be skipped silently, and
    its history after the date would have to be rewound first."""
    with raw.cursor() as cur:
        cur.execute(
            f"""SELECT i.job, i.finished_at, (SELECT max(logical_date) FROM {LOAD_LOG}
    WHERE job = l.job AND status = 'succeeded')
FROM {LOAD_LOG} l JOIN {LOAD_LOG} i ON i.logical_date = l.logical_date
WHERE l.job = %s AND l.logical_date = %s AND i.job = ANY(%s) AND i.status = 'succeeded'
  AND i.finished_at > l.finished_at
ORDER BY i.job""",
            (job, day, list(inputs)),
        )
        newer = cur.fetchall()
    if newer:
        source, when, latest = newer[0]
        raise PipelineError(
            f"{job} for {day}: its input {source} was loaded again at "
            f"{when:%Y-%m-%d %H:%M:%S %Z}, after {job} published {day}, and its history is "
            f"loaded up to {latest}. Versions are kept in date order, so the days after {day} "
            "would have to be rewound first: rebuild the warehouse (orchestrate_build.py "
            f"--rebuild) and replay {day} .. {latest} in order (scripts/run_pipeline.py "
            f"<database> --date {day} --to {latest}). A reload of the latest date needs none "
            "of this: its silver and gold run again by themselves."
        )


def _gap_message(job: str, day: date, latest: date) -> str:
    first, last = latest + timedelta(days=1), day - timedelta(days=1)
    missing = str(first) if first == last else f"{first} .. {last}"
    return (
        f"{job} for {day}: refused, history is loaded up to {latest} and {missing} "
        f"{'was' if first == last else 'were'} never loaded. Silver keeps history in date "
        f"order: load the missing days first, e.g. scripts/run_pipeline.py <database> "
        f"--date {first} --to {day}."
    )


def require_day_over(cfg: RunConfig, job: str) -> None:
    """History loads stamp versions with the end of the logical date: it must be past."""
    if cfg.system_time > datetime.now(UTC):
        raise PipelineError(
            f"{job} for {cfg.logical_date}: the day is not over yet; its versions would start "
            f"at {cfg.system_time.isoformat()}, in the future. Run it after that time."
        )

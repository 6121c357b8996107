"""The warehouse's state, read from the load log: what the status page and the metrics show.

For each transform of the project's catalogue (layer by layer, in run order): the last
date it loaded, rows written and rejected by that load, when it finished (freshness),
its latest attempt when that one did not succeed, and the last day's rejects by rule
(from the quarantine table the transform declares).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import asyncpg

from src._base.functions.load_log import LOAD_LOG
from src._base.pipeline.catalogue import Catalogue
from src.serving.db import read_rows

LAST_SUCCESS = f"""
SELECT DISTINCT ON (job) job, logical_date, rows_read, rows_written, rows_rejected,
       finished_at
FROM {LOAD_LOG} WHERE status = 'succeeded' AND job = ANY($1)
ORDER BY job, logical_date DESC
"""

LATEST_ATTEMPT = f"""
SELECT DISTINCT ON (job) job, logical_date, status, message, started_at
FROM {LOAD_LOG} WHERE job = ANY($1)
ORDER BY job, started_at DESC
"""


@dataclass
class TransformStatus:
    name: str
    layer: str
    last_date: date | None = None
    rows_read: int | None = None
    rows_written: int | None = None
    rows_rejected: int | None = None
    finished_at: datetime | None = None
    freshness_seconds: float | None = None
    problem: str | None = None  # the latest attempt, when it did not succeed
    rejects: dict[str, int] = field(default_factory=dict)  # by rule, for last_date


@dataclass
class WarehouseStatus:
    database: str
    read_at: datetime
    transforms: list[TransformStatus]

    def layers(self) -> dict[str, list[TransformStatus]]:
        found: dict[str, list[TransformStatus]] = {}
        for transform in self.transforms:
            found.setdefault(transform.layer, []).append(transform)
        return found


async def read_status(db: asyncpg.Pool, database: str, catalogue: Catalogue) -> WarehouseStatus:
    """The state of every transform of ``catalogue`` in ``database``, the pool's."""
    jobs = list(catalogue.names())
    [clock] = await read_rows(db, "SELECT clock_timestamp() AS now")
    now = clock["now"]
    success = {r["job"]: r for r in await read_rows(db, LAST_SUCCESS, jobs)}
    latest = {r["job"]: r for r in await read_rows(db, LATEST_ATTEMPT, jobs)}
    statuses = []
    for entry in catalogue.entries:
        status = TransformStatus(entry.name, entry.layer)
        done = success.get(entry.name)
        if done is not None:
            status.last_date = done["logical_date"]
            status.rows_read, status.rows_written = done["rows_read"], done["rows_written"]
            status.rows_rejected, status.finished_at = done["rows_rejected"], done["finished_at"]
            if done["finished_at"] is not None:
                status.freshness_seconds = (now - done["finished_at"]).total_seconds()
        attempt = latest.get(entry.name)
        if attempt is not None and attempt["status"] != "succeeded":
            message = (attempt["message"] or "").splitlines()[0][:200] if attempt["message"] else ""
            status.problem = f"{attempt['status']} for {attempt['logical_date']}" + (
                f": {message}" if message else ""
            )
        statuses.append(status)
    await _add_rejects(db, catalogue, statuses)
    return WarehouseStatus(database, now, statuses)


async def _add_rejects(
    db: asyncpg.Pool, catalogue: Catalogue, statuses: list[TransformStatus]
) -> None:
    """Rejects by rule of each transform's last loaded day, from its quarantine table."""
    by_name = {s.name: s for s in statuses}
    tables: dict[str, list[str]] = {}
    for entry in catalogue.entries:
        quarantine = getattr(entry.spec, "quarantine", None)
        if quarantine and by_name[entry.name].last_date is not None:
            tables.setdefault(quarantine, []).append(entry.name)
    for table, jobs in tables.items():
        days = [by_name[j].last_date for j in jobs]
        rows = await read_rows(
            db,
            f"""SELECT q.job, q.rule, count(*) AS n
                FROM {table} q JOIN unnest($1::text[], $2::date[])
                     AS last(job, day) ON last.job = q.job AND last.day = q.logical_date
                GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2""",
            jobs,
            days,
        )
        for row in rows:
            by_name[row["job"]].rejects[row["rule"]] = row["n"]

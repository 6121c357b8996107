"""One load per job and date at a time: a claim, held from a load's checks to its commit.

    with claim_load(cfg, "trade_to_silver", inputs=("trade_to_bronze",), in_order=True) as claim:
        if claim.skipped:
            ...                                   # the date is already part of the history
        with publication(claim) as pub:           # the batch runs on the claim's connection
            batch = claim.batches["trade_to_bronze"]

A claim is a session-level advisory lock on a connection of its own, so it lasts across
the load's commits (begin, staging, publication) and PostgreSQL releases it when the
process dies. Loads that keep history (``in_order``) also lock the whole job: the check
that earlier dates are loaded and the load itself are then one atomic step. A second
run of a claimed load fails at once with :class:`LoadInProgress`, naming the holder.

Holding its locks, a claim knows that any ``running`` row of its load log belongs to a
process that died: it marks it ``failed`` and drops that attempt's staging tables.
:func:`recover_dead_loads` does the same for a whole database (``make clean-loads``).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg2

from src._base.functions.load_log import LOAD_LOG
from src._base.functions.system_time import FRAMEWORK_SCHEMA
from src._base.pipeline.batches import (
    batch_state,
    require_bronze_day,
    require_current,
    require_day_over,
    require_in_order,
    require_inputs,
)
from src._base.pipeline.run_config import RunConfig
from src.utils.connections import connect_raw
from src.utils.errors import MedallionError

log = logging.getLogger(__name__)

STAGE_PREFIX = "stage_"
_STAGE_COMMENT = re.compile(r"medallion stage of (?P<job>\S+) for (?P<day>\d{4}-\d{2}-\d{2})")
DIED = "process died: the load was 'running' but no session held its lock"


class LoadInProgress(MedallionError):
    """Another process holds the claim of this load; a later retry may succeed."""

    transient = True


def load_lock_name(job: str, day: date | None) -> str:
    """What a lock is hashed from: one load (job and date) or, with no date, the whole job."""
    return f"medallion load {job} {day.isoformat()}" if day else f"medallion job {job}"


def stage_comment(job: str, day: date) -> str:
    """The comment that ties a staging table to its load (see :func:`stage_table`)."""
    return f"medallion stage of {job} for {day.isoformat()}"


def stage_table(job: str, day: date, name: str) -> str:
    """The staging table of one load: the same name on every attempt, so a retry (holding
    the claim) replaces what a crashed attempt left. Long names end in a hash instead."""
    plain = f"{STAGE_PREFIX}{job}_{day:%Y%m%d}_{name}"
    if len(plain.encode()) > 63:
        digest = uuid.uuid5(uuid.NAMESPACE_OID, plain).hex[:12]
        plain = f"{STAGE_PREFIX}{digest}_{name}"[:63]
    return f'{FRAMEWORK_SCHEMA}."{plain}"'


@dataclass
class Claim:
    """A held claim: its connection, and what the checks found."""

    cfg: RunConfig
    job: str  # the load's key (RunConfig.load_key): what the load log and locks know
    raw: Any  # the psycopg2 connection that holds the locks
    name: str = ""  # the transform's own name (what the quarantine records)
    batches: dict[str, uuid.UUID] = field(default_factory=dict)  # each input's batch
    skipped: str | None = None  # why the load need not run (already loaded)
    replacing: bool = False  # a published batch of the date is replaced (bronze)
    accepted: str | None = None  # what the load takes that a complete day would not have
    recovered: list[date] = field(default_factory=list)  # dates of dead attempts marked failed


def _scalar(raw: Any, sql: str, params: Any = None) -> Any:
    with raw.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    return row[0] if row else None


def _lock_key(raw: Any, name: str) -> int:
    return _scalar(raw, "SELECT hashtextextended(%s, 0)", (name,))


def lock_holder(raw: Any, name: str) -> str | None:
    """Who holds the lock ``name`` in this database: pid, application, client and since when."""
    key = _lock_key(raw, name)
    return _scalar(
        raw,
        """SELECT format('pid %%s (%%s, from %%s, connected since %%s)', a.pid,
    coalesce(nullif(a.application_name, ''), 'no application name'),
    coalesce(host(a.client_addr), 'a local socket'), date_trunc('second', a.backend_start))
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = ((%(key)s >> 32) & 4294967295)::oid AND l.objid = (%(key)s & 4294967295)::oid
LIMIT 1""",
        {"key": key},
    )


def try_lock(raw: Any, name: str) -> bool:
    return bool(_scalar(raw, "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (name,)))


def unlock(raw: Any, name: str) -> None:
    _scalar(raw, "SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (name,))


def _lock_or_fail(raw: Any, job: str, day: date, whole_job: bool) -> str:
    """Take the lock of the load (or, with ``whole_job``, of every date); its name."""
    name = load_lock_name(job, None if whole_job else day)
    if try_lock(raw, name):
        raw.commit()
        return name
    holder = lock_holder(raw, name) or "a session that has just ended"
    raw.rollback()
    scope = f"{job} (any date: it keeps history in date order)" if whole_job else job
    raise LoadInProgress(
        f"{job} for {day}: {scope} is already being loaded by {holder}. Wait for that run "
        "to finish, or stop it; a rerun afterwards continues from what it published."
    )


def _mark_dead(raw: Any, job: str, day: date | None) -> list[date]:
    """Fail the job's 'running' rows (of ``day``, or every date): their owner is gone."""
    only_day = " AND logical_date = %(day)s" if day else ""
    with raw.cursor() as cur:
        cur.execute(
            f"""UPDATE {LOAD_LOG} SET status = 'failed', finished_at = clock_timestamp(),
    message = %(died)s || ' (started ' || started_at || ')'
WHERE job = %(job)s AND status = 'running'{only_day} RETURNING logical_date""",
            {"job": job, "day": day, "died": DIED},
        )
        dead = sorted(row[0] for row in cur.fetchall())
    raw.commit()
    for dead_day in dead:
        log.warning(
            "%s for %s: an earlier attempt died while running; marked failed", job, dead_day
        )
    return dead


def staged_tables(raw: Any) -> list[tuple[str, str | None, date | None]]:
    """Every staging table in the framework schema: (qualified name, its job, its date).

    Tables of older framework versions carry no comment: job and date are None.
    """
    with raw.cursor() as cur:
        cur.execute(
            """SELECT c.relname, obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind = 'r' AND starts_with(c.relname, %s)""",
            (FRAMEWORK_SCHEMA, STAGE_PREFIX),
        )
        rows = cur.fetchall()
    raw.commit()
    found = []
    for relname, comment in rows:
        match = _STAGE_COMMENT.fullmatch(comment or "")
        owner = (match["job"], date.fromisoformat(match["day"])) if match else (None, None)
        found.append((f'{FRAMEWORK_SCHEMA}."{relname}"', *owner))
    return found


def drop_tables(raw: Any, tables: list[str]) -> None:
    with raw.cursor() as cur:
        for table in tables:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
    raw.commit()


def _drop_leftovers(raw: Any, job: str, day: date | None) -> None:
    leftovers = [
        table
        for table, owner, owner_day in staged_tables(raw)
        if owner == job and (day is None or owner_day == day)
    ]
    if leftovers:
        log.info("%s: dropping %d staging table(s) a dead attempt left", job, len(leftovers))
    drop_tables(raw, leftovers)


def _check(claim: Claim, inputs: tuple[str, ...], in_order: bool, skip_loaded: bool) -> None:
    """The checks a load makes under its claim (see :func:`claim_load`)."""
    cfg, raw = claim.cfg, claim.raw
    if skip_loaded:
        _check_bronze(claim)
    elif in_order:
        require_day_over(cfg, claim.job)
        claim.skipped = require_in_order(raw, claim.job, cfg.logical_date)
        if claim.skipped:  # part of the history: unless an input was reloaded since
            require_current(raw, claim.job, cfg.logical_date, [cfg.load_key(n) for n in inputs])
    if not claim.skipped:
        keys = tuple(cfg.load_key(name) for name in inputs)
        found = require_inputs(raw, claim.job, cfg.logical_date, keys)
        claim.batches = {name: found[key] for name, key in zip(inputs, keys, strict=True)}
    raw.commit()


def _check_bronze(claim: Claim) -> None:
    """A bronze date must be over (or accepted as partial, :func:`require_bronze_day`);
    a complete published batch is skipped unless ``cfg.reload``, and a partial one is
    loaded again: either way its replacement is published atomically."""
    cfg = claim.cfg
    claim.accepted = require_bronze_day(cfg, claim.name or claim.job)
    status, accepted = batch_state(claim.raw, claim.job, cfg.logical_date)
    if status != "succeeded":
        return
    if accepted is None and not cfg.reload:
        claim.skipped = (
            f"batch {cfg.batch_id(claim.name)} for {cfg.logical_date} is already loaded "
            "(--reload replaces it)"
        )
        return
    claim.replacing = True
    log.info(
        "%s for %s: replacing its published batch (%s)",
        claim.job, cfg.logical_date, accepted or "reload",
    )  # fmt: skip


def _application_name(job: str, day: date) -> str:
    return f"medallion {job} {day.isoformat()} {socket.gethostname()}:{os.getpid()}"[:63]


@contextmanager
def claim_load(
    cfg: RunConfig,
    job: str,
    *,
    inputs: tuple[str, ...] = (),
    in_order: bool = False,
    skip_loaded: bool = False,
) -> Iterator[Claim]:
    """Claim ``job`` for ``cfg.logical_date``, recover dead attempts, then check.

    Checks, in the claim: with ``skip_loaded`` a date already loaded is skipped (bronze);
    with ``in_order`` the date order of a history load (skip a loaded earlier date, refuse
    a gap or an earlier date never loaded, refuse a day not over); then every input load
    must have succeeded for the date (:class:`~src.utils.errors.PipelineError` if not).
    """
    day = cfg.logical_date
    name, job = job, cfg.load_key(job)
    raw = connect_raw(cfg.warehouse)
    held: list[str] = []
    try:
        with raw.cursor() as cur:
            cur.execute("SET application_name = %s", (_application_name(job, day),))
        for whole_job in (True, False) if in_order else (False,):
            held.append(_lock_or_fail(raw, job, day, whole_job))
        scope = None if in_order else day
        claim = Claim(cfg, job, raw, name, recovered=_mark_dead(raw, job, scope))
        _drop_leftovers(raw, job, scope)
        _check(claim, inputs, in_order, skip_loaded)
        yield claim
    finally:
        _release(raw, held)


def _release(raw: Any, held: list[str]) -> None:
    try:
        raw.rollback()
        for name in reversed(held):
            unlock(raw, name)
        raw.commit()
    except psycopg2.Error:  # the connection is gone: so are its locks
        log.debug("claim connection lost before its locks were released", exc_info=True)
    finally:
        raw.close()


@dataclass
class Recovery:
    """What :func:`recover_dead_loads` found in one database."""

    failed: list[tuple[str, date]] = field(default_factory=list)  # dead loads, now failed
    dropped: list[str] = field(default_factory=list)  # staging tables dropped
    alive: list[str] = field(default_factory=list)  # loads still running, with their holder


def _running_loads(raw: Any) -> list[tuple[str, date]]:
    with raw.cursor() as cur:
        cur.execute(
            f"SELECT job, logical_date FROM {LOAD_LOG} WHERE status = 'running' ORDER BY 1, 2"
        )
        rows = cur.fetchall()
    raw.commit()
    return rows


def _if_unclaimed(raw: Any, job: str, day: date, action) -> bool:
    """Run ``action()`` while holding the load's lock; False when someone else holds it."""
    name = load_lock_name(job, day)
    if not try_lock(raw, name):
        raw.rollback()
        return False
    try:
        action()
    finally:
        unlock(raw, name)
        raw.commit()
    return True


def recover_dead_loads(raw: Any) -> Recovery:
    """Mark every dead 'running' load failed and drop every staging table no live load owns.

    A load is alive while some session holds its lock. Staging tables without an owner
    (made by older framework versions) are dropped only when no load is alive at all.
    """
    found = Recovery()
    for job, day in _running_loads(raw):
        if _if_unclaimed(raw, job, day, lambda job=job, day=day: _mark_dead(raw, job, day)):
            found.failed.append((job, day))
        else:
            holder = lock_holder(raw, load_lock_name(job, day)) or "a session that just ended"
            found.alive.append(f"{job} for {day} (held by {holder})")
    for table, job, day in staged_tables(raw):
        if job is None or day is None:
            if found.alive:
                continue
            drop_tables(raw, [table])
        elif not _if_unclaimed(raw, job, day, lambda table=table: drop_tables(raw, [table])):
            continue
        found.dropped.append(table)
    return found

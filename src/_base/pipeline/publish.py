"""Publish a load all at once: stage frames with COPY, then one transaction.

    with claim_load(cfg, "instrument_to_silver", inputs=(...)) as claim, \
            publication(claim) as pub:
        snapshot = pub.stage(snapshot_df, "snapshot")        # an UNLOGGED staging table
        pub.execute(merge_sql(snapshot))                      # queued, not yet run
        pub.read, pub.written = 120, 118
    # on leaving: BEGIN; set_system_time; queued SQL; load_log 'succeeded'; COMMIT

Readers never see half a load: staging tables belong to the load (named after its job
and date, see :func:`~src._base.pipeline.claims.stage_table`) and are dropped afterwards,
and the target tables change in one transaction. A failure marks the load ``failed``.
Everything runs on the claim's connection, so the load stays claimed until it ends.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg2

from src._base.functions.system_time import SET_SYSTEM_TIME
from src._base.pipeline.batches import (
    begin_batch,
    fail_batch,
    finish_batch,
    note_failed_replacement,
)
from src._base.pipeline.claims import Claim, stage_comment, stage_table
from src._base.pipeline.frames import write_frame
from src._base.pipeline.result import TransformResult
from src.utils import faults
from src.utils.connections import relation_columns
from src.utils.errors import DefinitionError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

_PG_TYPES = {
    "string": "text",
    "boolean": "boolean",
    "tinyint": "smallint",
    "smallint": "smallint",
    "int": "integer",
    "bigint": "bigint",
    "float": "real",
    "double": "double precision",
    "date": "date",
    "timestamp": "timestamptz",
    "timestamp_ntz": "timestamp",
    "binary": "bytea",
}


def pg_type(spark_type: str) -> str:
    """PostgreSQL's type for a Spark ``simpleString`` type (decimals keep their scale)."""
    decimal = re.fullmatch(r"decimal\((\d+),(\d+)\)", spark_type)
    if decimal:
        return f"numeric({decimal[1]},{decimal[2]})"
    return _PG_TYPES.get(spark_type, "text")


def prefer_parallel(cur: Any) -> None:
    """Let the rest of the transaction use parallel workers wherever a table is big enough
    (``min_parallel_table_scan_size``): the planner's default costs keep a million-row
    scan with joins and hashes in one process, since it prices handing rows back to the
    leader above doing the work twice as fast."""
    cur.execute("SET LOCAL parallel_setup_cost = 100")
    cur.execute("SET LOCAL parallel_tuple_cost = 0.001")


class Publication:
    def __init__(self, claim: Claim) -> None:
        self.cfg, self.job, self.raw = claim.cfg, claim.job, claim.raw
        self.name = claim.name or claim.job  # the transform (the job is its load key)
        self.batch_id = self.cfg.batch_id(self.name)
        self.statements: list[tuple[str, Any]] = []
        self.staged: list[str] = []
        self.names: set[str] = set()  # of the frames staged (tables and views)
        self.staged_rows: dict[str, int] = {}  # rows staged, by the name given to stage()
        self.timings: dict[str, float] = {}  # seconds spent staging each frame, publishing
        self.staged_types: dict[str, str] = {}  # "frame.column" -> type, as staged
        self.read = self.written = self.rejected = 0
        self.system_time: datetime | None = None
        self.analyzed: list[str] = []  # tables whose statistics are refreshed once published
        self.accepted = claim.accepted  # recorded with the batch (a partial day)
        self.note: str | None = None  # the load log's message for the batch (a snapshot read)

    def stage(self, df: DataFrame, name: str, types: dict[str, str] | None = None) -> str:
        """COPY ``df`` into a new UNLOGGED table; returns its qualified name.

        Column types follow Spark's; ``types`` overrides some (``{"trade_id": "uuid"}``).
        """
        table = self._stage_table(name)
        types = types or {}
        columns = ", ".join(
            f'"{f.name}" {types.get(f.name) or pg_type(f.dataType.simpleString())}'
            for f in df.schema
        )
        with self.raw.cursor() as cur:
            cur.execute(f"CREATE UNLOGGED TABLE {table} ({columns})")
            self._label(cur, table, name)
        self.raw.commit()
        self.staged.append(table)
        started = time.perf_counter()
        rows = write_frame(df, self.cfg.warehouse, table, self.cfg.writer)
        self.timings[f"stage {name}"] = time.perf_counter() - started
        self.staged_rows[name] = rows
        with self.raw.cursor() as cur:
            cur.execute(f"ANALYZE {table}")
        self.raw.commit()
        log.debug("%s: staged %d rows in %s", self.job, rows, table)
        return table

    def stage_query(self, select_sql: str, name: str) -> str:
        """Stage the rows of a query run in the warehouse itself (the postgres engine):
        ``CREATE UNLOGGED TABLE ... AS``; returns the table's qualified name."""
        return self._create_as(name, select_sql, output=True)

    def stage_view(self, view: str, name: str) -> str:
        """Publish straight from the load's temporary view ``view`` (the postgres engine),
        for a frame the published SQL reads once: a copy would be written only to be read
        back. Its types are noted as a staged table's are; returns the view's name."""
        self._new_name(name)
        relation = f'pg_temp."{view}"'
        self._note_types(relation, name)
        return relation

    def work_table(self, name: str, select_sql: str, *, parallel: bool = False) -> str:
        """An UNLOGGED table of the load's own work (a landed source, a hashed batch), made
        with ``CREATE TABLE ... AS``: dropped with the stages once published (or by the
        next attempt), but not an output, so its types are not recorded. Unlike a
        temporary table, PostgreSQL's parallel workers can read it.

        ``parallel`` asks for parallel workers even where the planner prices the query's
        functions too cheaply to bother (it counts a SHA-256 of a row's JSON as one
        operator): hashing a million bronze rows took 6 s on 2 cores against 9 s on one.
        """
        return self._create_as(name, select_sql, output=False, parallel=parallel)

    def _create_as(
        self, name: str, select_sql: str, *, output: bool, parallel: bool = False
    ) -> str:
        """The load's table ``name`` made from a query and labelled for clean-up; an
        ``output`` (a staged frame) also gets its types noted and its statistics."""
        table = self._stage_table(name)
        started = time.perf_counter()
        with self.raw.cursor() as cur:
            if parallel:
                prefer_parallel(cur)
            cur.execute(f"CREATE UNLOGGED TABLE {table} AS {select_sql}")
            self.staged_rows[name] = cur.rowcount
            self._label(cur, table, name if output else None)
            if output:
                cur.execute(f"ANALYZE {table}")
        self.raw.commit()
        self.staged.append(table)
        self.timings[f"stage {name}" if output else name] = time.perf_counter() - started
        return table

    def _stage_table(self, name: str) -> str:
        """The load's staging table for ``name``, a leftover of a dead attempt dropped."""
        self._new_name(name)
        table = stage_table(self.job, self.cfg.logical_date, name)
        with self.raw.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        return table

    def _new_name(self, name: str) -> None:
        if name in self.names:
            raise DefinitionError(
                f"{self.job}: a frame named '{name}' is staged twice; give each stage call "
                "its own name."
            )
        self.names.add(name)

    def _label(self, cur: Any, table: str, name: str | None) -> None:
        """Tie the staging table to its load; with the frame's ``name``, note its column
        types (engines compare them)."""
        cur.execute(
            f"COMMENT ON TABLE {table} IS %s", (stage_comment(self.job, self.cfg.logical_date),)
        )
        if name is not None:
            self._note_types(table, name)

    def _note_types(self, relation: str, name: str) -> None:
        columns = relation_columns(self.raw, relation)
        self.staged_types.update({f"{name}.{column}": kind for column, kind in columns})

    def accept(self, what: str | None) -> None:
        """Record ``what`` the load accepted (a partial day's missing files) with it."""
        if what:
            self.accepted = f"{self.accepted}; {what}" if self.accepted else what

    def execute(self, sql: str, params: Any = None) -> None:
        """Queue a statement (psycopg2 parameters: tuple or dict) for the transaction."""
        self.statements.append((sql, params))

    def analyze_after(self, *tables: str) -> None:
        """Refresh the planner's statistics of ``tables`` once the load is published.

        The next load reads what this one wrote (a new batch id, a new date), which stale
        statistics put at zero rows: a gold day was planned as nested loops over what it
        thought was one trade and ran 6x slower. ANALYZE samples a fixed number of rows,
        so it costs about the same on a table of any size.
        """
        self.analyzed.extend(t for t in tables if t not in self.analyzed)

    def commit(self) -> None:
        started = time.perf_counter()
        with self.raw.cursor() as cur:
            if self.system_time is not None:
                cur.execute(f"SELECT {SET_SYSTEM_TIME}(%s)", (self.system_time,))
            for sql, params in self.statements:
                began = time.perf_counter()
                cur.execute(sql, params)
                log.debug(
                    "%s: %.2fs, %s rows: %s",
                    self.job,
                    time.perf_counter() - began,
                    cur.rowcount,
                    " ".join(sql.split())[:120],
                )
            faults.point("publishing", self.name)
            finish_batch(
                cur,
                self.job,
                self.cfg.logical_date,
                read=self.read,
                written=self.written,
                rejected=self.rejected,
                accepted=self.accepted,
                note=self.note,
            )
        self.raw.commit()
        faults.point("published", self.name)
        self.timings["publish"] = time.perf_counter() - started
        if self.analyzed:
            started = time.perf_counter()
            with self.raw.cursor() as cur:
                cur.execute(f"ANALYZE {', '.join(self.analyzed)}")
            self.raw.commit()
            self.timings["analyze"] = time.perf_counter() - started

    def drop_staged(self) -> None:
        self.raw.rollback()
        with self.raw.cursor() as cur:
            for table in self.staged:  # with the load's temporary views over it
                cur.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        self.raw.commit()


@contextmanager
def publication(claim: Claim, result: TransformResult | None = None) -> Iterator[Publication]:
    """Begin the claimed load's batch, yield it for staging, then publish or fail it.

    ``result`` gets the publication's timings and staged types as they fill in.
    """
    pub = Publication(claim)
    if result is not None:
        result.timings, result.output_types = pub.timings, pub.staged_types
    day = claim.cfg.logical_date
    if not claim.replacing:  # a replaced batch stays published until its successor is
        begin_batch(claim.raw, claim.job, day, pub.batch_id)
    try:
        yield pub
        pub.commit()
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"
        try:
            if claim.replacing:
                note_failed_replacement(claim.raw, claim.job, day, message)
            else:
                fail_batch(claim.raw, claim.job, day, message)
        except psycopg2.Error:  # the connection died with the cause: keep the cause
            log.warning(
                "%s for %s: the failure could not be recorded (the connection is gone); "
                "the next run marks the attempt failed", claim.job, day,
            )  # fmt: skip
        raise
    finally:
        try:
            pub.drop_staged()
        except psycopg2.Error:  # the next attempt drops what is left (its claim does)
            log.debug("%s: staged tables left for the next attempt", claim.job, exc_info=True)

"""The ``postgres`` engine: a transform's declared steps run inside the warehouse.

On the load's own connection (its claim), every read becomes a temporary view, and every
Spark SQL step is transpiled (:mod:`.transpile`, typed with what PostgreSQL reports for
the views it reads) into a temporary view of its own. The last step is staged with
``CREATE TABLE AS`` and published exactly as the Spark engine publishes its frames: same
claim, same publication, same merge SQL, one transaction. No JVM is started.

Bronze sources come in without Spark too: a table of the source database streams in with
``COPY`` (one connection out, one in), landing files are read with pyarrow and copied in.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping
from typing import Any

import psycopg2

from src._base.engines.transpile import UUID3, TranspileError, to_postgres
from src._base.pipeline.claims import Claim, claim_load
from src._base.pipeline.frames import content_hash_sql
from src._base.pipeline.gold import run_gold_snapshot
from src._base.pipeline.publish import Publication, prefer_parallel, publication
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src._base.pipeline.shapes import (
    BronzeAppend,
    GoldSnapshot,
    LandingFiles,
    Read,
    SilverBatchLoad,
    SnapshotIntoHistory,
    SourceTable,
    day_files,
    require_current_source,
    require_rows,
    require_source_columns,
    source_connection,
)
from src._base.pipeline.silver import batch_steps, run_silver_load, snapshot_steps
from src._base.sources.bucket import BucketPath
from src.utils import faults
from src.utils.connections import connect_raw, copy_between, fetch_rows, relation_columns
from src.utils.errors import PipelineError

log = logging.getLogger(__name__)

FILE_PATH = "_metadata_file_path"  # what Spark calls _metadata.file_path


class Steps:
    """A load's relations on its connection: reads, the bronze batch, transpiled steps."""

    def __init__(self, claim: Claim, name: str) -> None:
        self.raw, self.name = claim.raw, name
        self.params = claim.cfg.params()
        self.schema: dict[str, dict[str, str]] = {}
        self.rows: dict[str, int] = {}  # rows of the temporary tables, as created
        with self.raw.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")  # Spark's session time zone
            # Steps are short set-based queries whose estimated cost passes JIT's threshold
            # as tables grow: compiling took longer than running (300 ms against 150 ms
            # for a gold day after 30 days), and made the cost grow with history.
            cur.execute("SET jit = off")
            # Sorts and hashes of a day's batch in memory: a snapshot's checks spilled
            # 47 MB per worker to disk at the default 4 MB and took 1.8 s longer.
            cur.execute("SET work_mem = '256MB'")
        self.raw.commit()
        try:  # the checked batch is a temporary table: 8 MB of buffers made it spill to disk
            with self.raw.cursor() as cur:
                cur.execute("SET temp_buffers = '512MB'")
        except psycopg2.Error:  # a connection that already used temporary tables keeps its own
            self.raw.rollback()
        self.raw.commit()

    def create(self, view: str, select_sql: str, *, table: bool = False) -> None:
        """A temporary view (or table) ``view``; its column types join the schema."""
        kind = "TABLE" if table else "VIEW"
        started = time.perf_counter()
        try:
            with self.raw.cursor() as cur:
                if table:  # a batch's checks: 2.4 s on two cores against 3.2 s on one
                    prefer_parallel(cur)
                cur.execute(f'CREATE TEMP {kind} "{view}" AS {select_sql}')
                if table:  # read by later steps: plan them from its real size
                    self.rows[view] = cur.rowcount
                    cur.execute(f'ANALYZE "{view}"')
            log.debug(
                "%s: %s %s in %.2fs", self.name, kind.lower(), view, time.perf_counter() - started
            )
            self.schema[view] = dict(relation_columns(self.raw, f'pg_temp."{view}"'))
        except psycopg2.Error as exc:
            self.raw.rollback()
            first = str(exc).strip().splitlines()[0]
            raise TranspileError(
                f"{self.name}, step {view}: PostgreSQL refused the translated SQL: {first}"
            ) from None
        self.raw.commit()

    def read(self, view: str, read: Read) -> None:
        self.create(view, f"SELECT * FROM {read.query(self.params)}")

    def batch(self, view: str, table: str, batch_id: object) -> None:
        self.create(view, f"SELECT * FROM {table} WHERE batch_id = '{batch_id}'")

    def step(self, view: str, spark_sql: str, *, key: str = "", table: bool = False) -> str:
        """Transpile and create ``view``; returns the PostgreSQL it runs."""
        text = spark_sql.format(key=f"{UUID3}({key.format(**self.params)})", **self.params)
        sql = to_postgres(text, self.schema, where=f"{self.name}, step {view}")
        self.create(view, sql, table=table)
        return sql

    def stage(self, pub: Publication, view: str, types: dict[str, str], *, name: str = "") -> str:
        """Stage ``view`` (as ``name``, default its own); ``types`` casts some columns."""
        columns = ", ".join(
            f'"{c}"::{types[c]} AS "{c}"' if c in types else f'"{c}"' for c in self.schema[view]
        )
        return pub.stage_query(f'SELECT {columns} FROM "{view}"', name or view)

    def stage_read_once(self, pub: Publication, view: str) -> str:
        """Stage ``view`` for SQL that reads it once (a full snapshot's diff): it is
        published from the view itself, since a million-row snapshot took 1 s to copy."""
        return pub.stage_view(view, view)

    def scalar(self, view: str) -> Any:
        return fetch_rows(self.raw, f'SELECT * FROM "{view}" LIMIT 1')[0][0]

    def close(self) -> None:
        """Temporary views go with the claim's connection."""

    def columns(self, view: str) -> list[str]:
        return list(self.schema[view])

    def count(self, view: str) -> int:
        if view in self.rows:
            return self.rows[view]
        return fetch_rows(self.raw, f'SELECT count(*) FROM "{view}"')[0][0]


def run_bronze_append(spec: BronzeAppend, cfg: RunConfig, name: str) -> TransformResult:
    result = TransformResult(name, "bronze")
    with claim_load(cfg, name, skip_loaded=True) as claim:
        if claim.skipped:
            result.skipped = claim.skipped
            return result
        with publication(claim, result) as pub:
            steps = Steps(claim, name)
            label = _land_source(steps, pub, cfg, name, spec.source)
            faults.point("read", name)
            available = [c for c in steps.columns("source") if c != FILE_PATH]
            require_source_columns(cfg, name, label, spec.landed.format(**steps.params), available)
            landed = spec.landed.replace("_metadata.file_path", FILE_PATH)
            steps.step("landed", landed)  # read once, by the hashing: no copy of its own
            hashed = _hashed(steps, pub)
            require_rows(cfg, name, pub.staged_rows["hashed"], label, spec.empty_ok)
            pub.execute(f"DELETE FROM {spec.target} WHERE batch_id = %s", (str(pub.batch_id),))
            pub.execute(*_append_sql(steps, cfg, name, spec.target, label, hashed))
            result.rows_read = result.rows_written = pub.read = pub.written = pub.staged_rows[
                "hashed"
            ]
            pub.analyze_after(spec.target)
    return result


def _hashed(steps: Steps, pub: Publication) -> str:
    """The landed rows with Spark's content hash, in a work table written by parallel
    workers: the hash is most of a bronze load's time."""
    columns = steps.columns("landed")
    steps.step("hashed", f"SELECT *, {content_hash_sql(columns)} AS content_hash FROM landed")
    return pub.work_table("hashed", 'SELECT * FROM "hashed"', parallel=True)


def _append_sql(
    steps: Steps, cfg: RunConfig, name: str, target: str, label: str, hashed: str
) -> tuple[str, tuple]:
    """INSERT of the hashed rows with their load metadata."""
    names = ", ".join(f'"{c}"' for c in steps.columns("landed"))
    sql = (
        f"INSERT INTO {target} ({names}, batch_id, logical_date, load_time, source, content_hash)"
        f" SELECT {names}, %s, %s, clock_timestamp(), %s, content_hash FROM {hashed}"
    )
    return sql, (str(cfg.batch_id(name)), cfg.logical_date, label)


def _source_table(steps: Steps, pub: Publication, columns: str) -> str:
    """An empty work table for the source rows, read as the view ``source``. Not a
    temporary table: parallel workers hash what is landed in it."""
    table = pub.work_table("source", f"SELECT {columns} LIMIT 0")
    steps.create("source", f"SELECT * FROM {table}")
    return table


def _land_source(
    steps: Steps, pub: Publication, cfg: RunConfig, name: str, source: SourceTable | LandingFiles
) -> str:
    """Bring the day's source rows into the view ``source``; their label."""
    if isinstance(source, LandingFiles):
        return _land_files(steps, pub, cfg, name, source)
    conn = source_connection(cfg, source, name)
    src = connect_raw(conn)
    try:
        pub.note = require_current_source(cfg, name, source, src)
        query = f"SELECT * FROM {source.query(steps.params)}"
        table = _source_table(steps, pub, _source_columns(src, query))
        copy_between(src, query, steps.raw, table, job=name)
        steps.raw.commit()
    finally:
        src.close()
    return f"{conn.database}.{source.relation}"


def _source_columns(src: Any, query: str) -> str:
    """``NULL::type AS name, ...``: the source query's columns, typed, for an empty copy."""
    with src.cursor() as cur:
        cur.execute(f"CREATE TEMP VIEW medallion_source AS {query}")
    rows = relation_columns(src, "medallion_source")
    src.rollback()
    return ", ".join(f'NULL::{kind} AS "{column}"' for column, kind in rows)


def _land_files(
    steps: Steps, pub: Publication, cfg: RunConfig, name: str, files: LandingFiles
) -> str:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    day = day_files(cfg, name, files)
    root, paths = day.root, day.paths
    pub.accept(day.accepted)
    target = ""
    bucket = root if isinstance(root, BucketPath) else None
    for path in paths:
        # one file, no dataset discovery: read_table took 14 ms a file, this 0.5 ms
        table = pq.ParquetFile(bucket.open(path) if bucket else path).read()
        # Spark's _metadata.file_path: "file:" and the absolute path, or the object's URI
        where = bucket.uri_of(path) if bucket else f"file:{path}"
        table = table.append_column(FILE_PATH, _repeat(where, table.num_rows))
        if not target:
            target = _source_table(steps, pub, _arrow_columns(table.schema))
        buffer = io.BytesIO()
        options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        pacsv.write_csv(table, buffer, options)
        buffer.seek(0)
        with steps.raw.cursor() as cur:
            cur.copy_expert(f"COPY {target} FROM STDIN WITH (FORMAT csv)", buffer)
    steps.raw.commit()
    return str(root)


def _repeat(value: str, count: int) -> Any:
    import pyarrow as pa

    return pa.array([value] * count, pa.string())


ARROW_TYPES: Mapping[str, str] = {
    "string": "text",
    "large_string": "text",
    "double": "double precision",
    "float": "real",
    "int64": "bigint",
    "int32": "integer",
    "int16": "smallint",
    "bool": "boolean",
    "date32[day]": "date",
}


def _arrow_columns(schema: Any) -> str:
    columns = []
    for field in schema:
        kind = str(field.type)
        pg = "timestamptz" if kind.startswith("timestamp") else ARROW_TYPES.get(kind)
        if pg is None:
            raise PipelineError(
                f"landing files: column {field.name} has type {kind}, which the postgres "
                "engine does not load yet; use --engine spark."
            )
        columns.append(f'NULL::{pg} AS "{field.name}"')
    return ", ".join(columns)


def run_gold(spec: GoldSnapshot, cfg: RunConfig, name: str) -> TransformResult:
    return run_gold_snapshot(spec, cfg, name, lambda claim: Steps(claim, name))


def run_silver_batch_load(spec: SilverBatchLoad, cfg: RunConfig, name: str) -> TransformResult:
    return run_silver_load(spec, cfg, name, lambda claim: Steps(claim, name), batch_steps)


def run_snapshot_into_history(
    spec: SnapshotIntoHistory, cfg: RunConfig, name: str
) -> TransformResult:
    return run_silver_load(spec, cfg, name, lambda claim: Steps(claim, name), snapshot_steps)


RUNNERS = {
    GoldSnapshot: run_gold,
    SilverBatchLoad: run_silver_batch_load,
    SnapshotIntoHistory: run_snapshot_into_history,
    BronzeAppend: run_bronze_append,
}

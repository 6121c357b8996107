"""What a transform declares: its layer shape, its inputs, named Spark SQL steps, its outputs.

A transform module ``src/<db>/transforms/<layer>/<name>.py`` defines ``TRANSFORM``, one of
the shapes below; its name is the file's name. Declarations are plain data (no Spark at
import), so the catalogue, the DAG factory and the engines all read the same facts::

    TRANSFORM = GoldSnapshot(
        inputs=("bar_to_silver",),                        # loads that must have published
        reads={"minute_bar": Read("silver.minute_bar", where="bar_time::date = '{day}'")},
        steps={"snapshot": "SELECT DATE '{day}' AS business_date, ... FROM minute_bar ..."},
        target="gold.daily_bar_hist",                     # a temporal table
        keys=("business_date", "instrument_code"),
    )

``inputs`` name upstream transforms; those of the same layer also order the layer. SQL
text is formatted with the run's parameters (:meth:`RunConfig.params`: ``{day}``,
``{prev}``, ``{as_of}``, ``{known_at}``, ``{day_start}``, ``{year}``, ``{month}``,
``{dd}``). A transform
that needs Python declares :class:`Custom` with its inputs and outputs and a ``run``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src._base.sources.bucket import BucketPath
from src._base.sources.resolve import require_reachable
from src.config import ConnectionSettings
from src.utils.errors import PipelineError
from src.utils.spark import is_connect

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Read:
    """A relation registered as a view for the steps: a table, view or ``(SELECT ...) q``.

    ``where`` (PostgreSQL, formatted with the run's parameters) and ``columns`` are pushed
    down to the database; ``partition_sql`` splits a large read into parallel queries.
    """

    relation: str
    where: str = ""
    columns: tuple[str, ...] = ()
    partition_sql: str | None = None

    def query(self, params: Mapping[str, str]) -> str:
        relation = self.relation.format(**params)
        if not self.where and not self.columns:
            return relation
        columns = ", ".join(self.columns) or "*"
        where = f" WHERE {self.where.format(**params)}" if self.where else ""
        return f"(SELECT {columns} FROM {relation}{where}) q"


@dataclass(frozen=True)
class SourceTable(Read):
    """A bronze load's source: a relation of a PostgreSQL source the project declares
    (``source``: its name; empty: the project's only PostgreSQL source).

    ``current_through``: SQL run on the source returning the last date its rows describe
    (a snapshot, like an instrument master, says nothing of dates itself). A load of a
    later date is refused, since today's snapshot stamped with it would be a guess, and
    a load records which snapshot it read (:func:`require_current_source`)."""

    source: str = ""
    current_through: str = ""


@dataclass(frozen=True)
class LandingFiles:
    """A bronze load's source: Parquet files in the landing zone, Hive-partitioned.

    ``pattern`` is relative to ``<landing dir>/<folder>`` and formatted with the run's
    parameters; the file's path is kept (``_metadata``) so partition values stay text.
    """

    folder: str
    pattern: str
    source: str = ""  # the declared landing source; empty: the project's only one
    # The day's manifest, relative to the folder (formatted like ``pattern``): JSON whose
    # "files" are the paths (relative to the folder) the day must hold. With one, a day
    # missing some loads only when accepted as partial (see :func:`day_files`).
    manifest: str = ""


def source_connection(cfg: RunConfig, source: SourceTable, transform: str) -> ConnectionSettings:
    """Where ``source`` is, once it has answered; otherwise the load fails naming it."""
    resolved = cfg.source_named(source.source, "postgres")
    require_reachable(resolved, transform, resolved.target.connect_timeout)  # type: ignore
    return resolved.target  # type: ignore[return-value]


def landing_root(cfg: RunConfig, files: LandingFiles, transform: str) -> Path:
    """The folder (or bucket prefix, :class:`BucketPath`) of the landing source ``files``
    reads; a missing folder finds no files, reported by :func:`no_files`, and a bucket
    that does not answer fails the load naming the source."""
    resolved = cfg.source_named(files.source, "landing")
    if isinstance(resolved.target, BucketPath):
        require_reachable(resolved, transform, 5.0)
    return resolved.target / files.folder  # type: ignore


def no_files(cfg: RunConfig, files: LandingFiles, transform: str, wanted: Path) -> str:
    resolved = cfg.source_named(files.source, "landing")
    return (
        f"{transform} for {cfg.logical_date}: no files match {wanted} (source "
        f"'{resolved.name}', from {resolved.origin}). Generate or land the day "
        f"(scripts/generate_sources.py), or {resolved.fix()}."
    )


@dataclass(frozen=True)
class DayFiles:
    """The landing files a load reads for its date, and what it accepted to get them."""

    root: Path | BucketPath
    paths: list[str]
    accepted: str | None = None


def day_files(cfg: RunConfig, name: str, files: LandingFiles) -> DayFiles:
    """The date's files of ``files``, checked before any engine reads them: present, every
    file the manifest expects landed (or the day accepted as partial, recorded), and each
    readable with the same columns as the others (:func:`check_files`)."""
    root = landing_root(cfg, files, name)
    pattern = files.pattern.format(**cfg.params())
    paths = [str(path) for path in sorted(root.glob(pattern))]
    accepted = None
    if files.manifest:
        paths, accepted = _against_manifest(cfg, name, files, root, paths)
    if not paths:
        raise PipelineError(no_files(cfg, files, name, root / pattern))
    check_files(cfg, name, paths, root if isinstance(root, BucketPath) else None)
    return DayFiles(root, paths, accepted)


def _read_manifest(root: Path | BucketPath, relative: str) -> list[str] | None:
    """The files a manifest lists, or None when there is none."""
    import json

    try:
        if isinstance(root, BucketPath):
            with root.open(f"{root.key}/{relative}") as handle:
                text = handle.read().decode()
        else:
            text = (root / relative).read_text()
    except (FileNotFoundError, OSError):
        return None
    return list(json.loads(text)["files"])


def _against_manifest(
    cfg: RunConfig, name: str, files: LandingFiles, root: Path | BucketPath, paths: list[str]
) -> tuple[list[str], str | None]:
    """The present files the day's manifest lists, and what was accepted; a day whose
    manifest is missing, or whose expected files have not all landed, is refused unless
    ``cfg.accept_partial``."""
    relative = files.manifest.format(**cfg.params())
    expected = _read_manifest(root, relative)
    where = f"{root}/{relative}"
    if expected is None:
        if not paths:
            return paths, None  # nothing landed at all: no_files says what to do
        if not cfg.accept_partial:
            raise PipelineError(
                f"{name} for {cfg.logical_date}: the day's manifest {where} is missing, so "
                f"whether every file has landed is unknown ({len(paths)} file(s) there now). "
                "Land the day (its producer writes the manifest), or pass --accept-partial "
                "to load what is there (recorded as a partial day)."
            )
        return paths, f"partial day: no manifest, {len(paths)} file(s) as found"
    prefix = f"{root.key if isinstance(root, BucketPath) else root}/"  # as glob names them
    present = {path.removeprefix(prefix): path for path in paths}
    missing = [file for file in expected if file not in present]
    extra = sorted(set(present) - set(expected))
    if extra:
        log.warning(
            "%s for %s: %d file(s) the manifest does not list are left out, e.g. %s",
            name, cfg.logical_date, len(extra), extra[0],
        )  # fmt: skip
    kept = [present[file] for file in expected if file in present]
    if not missing:
        return kept, None
    shown = ", ".join(missing[:5]) + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else "")
    if not cfg.accept_partial:
        raise PipelineError(
            f"{name} for {cfg.logical_date}: {len(missing)} of the {len(expected)} files the "
            f"manifest ({where}) expects have not landed: {shown}. Land them and rerun, or "
            "pass --accept-partial to load the others (recorded as a partial day, and loaded "
            "again by the next run, which picks up the files that arrive)."
        )
    return kept, f"partial day: {len(missing)} of {len(expected)} expected files missing: {shown}"


def check_files(
    cfg: RunConfig, name: str, paths: Sequence[Any], bucket: BucketPath | None = None
) -> None:
    """Read each landing file's footer (its schema: no data) before an engine reads the
    files, so the file at fault is the one named: one that is not Parquet (truncated,
    half-written) or whose columns differ from the others' (Spark would take one file's
    schema and blame another)."""
    import pyarrow.parquet as pq
    from pyarrow import ArrowException

    schemas: dict[str, Any] = {}
    for path in paths:
        try:
            schemas[str(path)] = pq.read_schema(bucket.open(path) if bucket else path)
        except (ArrowException, OSError) as exc:
            raise PipelineError(
                f"{name} for {cfg.logical_date}: the landing file {path} cannot be read as "
                f"Parquet ({' '.join(str(exc).split())[:200]}). It is truncated or still being "
                "written: land it again (atomically), then rerun the load."
            ) from None
    by_columns: dict[tuple, list[str]] = {}
    for path, schema in schemas.items():
        columns = tuple((field.name, str(field.type)) for field in schema)
        by_columns.setdefault(columns, []).append(path)
    if len(by_columns) < 2:
        return
    usual, *others = sorted(by_columns, key=lambda c: -len(by_columns[c]))
    odd = others[0]
    path = by_columns[odd][0]
    differs = sorted(set(odd) ^ set(usual))
    shown = ", ".join(f"{column} {kind}" for column, kind in differs if (column, kind) in odd)
    expected = ", ".join(f"{column} {kind}" for column, kind in differs if (column, kind) in usual)
    raise PipelineError(
        f"{name} for {cfg.logical_date}: the landing file {path} has columns of its own "
        f"({shown or 'none'}) where the day's other {len(by_columns[usual])} file(s) have "
        f"({expected or 'none'}), e.g. {by_columns[usual][0]}. Land it again with the "
        "same schema, then rerun the load."
    )


def spark_bucket_paths(spark: SparkSession, root: BucketPath, paths: list[str], name: str):
    """The objects as Spark's S3A connector names them, once the session can read them:
    without the connector (hadoop-aws) the load stops here, saying so."""
    if is_connect(spark):  # the server's Hadoop: this session's settings reach its reads
        for key, value in _s3a_settings(root).items():
            spark.conf.set(key, value)
        return [f"s3a://{path}" for path in paths]
    try:
        spark._jvm.java.lang.Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem")
    except Exception:  # py4j's error for a missing class
        raise PipelineError(
            f"{name}: the landing source is a bucket ({root}) and this Spark has no S3A "
            "connector. Add org.apache.hadoop:hadoop-aws (matching Spark's Hadoop) to "
            "spark.jars.packages, or run the load with --engine postgres, which reads "
            "buckets itself."
        ) from None
    conf = spark._jsc.hadoopConfiguration()
    for key, value in _s3a_settings(root).items():
        conf.set(key, value)
    return [f"s3a://{path}" for path in paths]


def _s3a_settings(root: BucketPath) -> dict[str, str]:
    settings = {}
    if root.endpoint:
        settings |= {"fs.s3a.endpoint": root.endpoint, "fs.s3a.path.style.access": "true"}
    if root.key_id and root.secret_key:
        settings["fs.s3a.access.key"] = root.key_id.get_secret_value()
        settings["fs.s3a.secret.key"] = root.secret_key.get_secret_value()
    return settings


def register_reads(
    spark: SparkSession, cfg: RunConfig, reads: Mapping[str, Read], transform: str = ""
) -> None:
    from src._base.pipeline.frames import read_jdbc, register

    params = cfg.params()
    for view, read in reads.items():
        if isinstance(read, SourceTable):
            conn = source_connection(cfg, read, transform or view)
        else:
            conn = cfg.warehouse
        partitions = cfg.read_partitions if read.partition_sql else 1
        df = read_jdbc(
            spark, conn, read.query(params), partitions=partitions, partition_sql=read.partition_sql
        )
        register(df, view)


def _register_files(
    spark: SparkSession, cfg: RunConfig, name: str, files: LandingFiles
) -> DayFiles:
    """Register the day's landing files as the view ``source`` (:func:`day_files`)."""
    day = day_files(cfg, name, files)
    root, paths = day.root, day.paths
    if isinstance(root, BucketPath):
        paths = spark_bucket_paths(spark, root, paths, name)
    df = spark.read.option("basePath", str(root).replace("s3://", "s3a://")).parquet(*paths)
    df.select("*", "_metadata").createOrReplaceTempView("source")
    return day


@dataclass(frozen=True)
class BronzeAppend:
    """Land one day of a source in a bronze table, once (see :mod:`.bronze`).

    The source is registered as the view ``source``; ``landed`` maps it to the target's
    columns (the load metadata columns are added by the framework). A source with no rows
    for the date fails the load (it is late, or the extract is wrong), unless
    ``empty_ok`` says an empty day is normal for it (:func:`require_rows`).
    """

    layer: ClassVar[str] = "bronze"
    source: SourceTable | LandingFiles
    landed: str
    target: str
    inputs: tuple[str, ...] = ()
    empty_ok: bool = False

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.target,)

    def run(self, spark: SparkSession, cfg: RunConfig, name: str) -> TransformResult:
        from src._base.pipeline.bronze import append_batch

        accepted = note = None
        if isinstance(self.source, LandingFiles):
            day = _register_files(spark, cfg, name, self.source)
            label, accepted = str(day.root), day.accepted
        else:
            note = source_currency(cfg, name, self.source)
            register_reads(spark, cfg, {"source": self.source}, name)
            database = cfg.source_named(self.source.source, "postgres").target.database  # type: ignore[union-attr]
            label = f"{database}.{self.source.relation}"
        text = self.landed.format(**cfg.params())
        columns = [f for f in spark.table("source").columns if f != "_metadata"]
        require_source_columns(cfg, name, label, text, columns)
        landed = spark.sql(text)
        return append_batch(
            cfg, name, landed, target=self.target, source=label, empty_ok=self.empty_ok,
            accepted=accepted, note=note,
        )  # fmt: skip


def landed_source_columns(landed: str) -> list[str]:
    """The columns of the view ``source`` that a ``landed`` mapping (Spark SQL, already
    formatted) reads, in the order it first reads them (``_metadata`` aside)."""
    import sqlglot
    from sqlglot import exp

    found: list[str] = []
    for column in sqlglot.parse_one(landed, read="spark").find_all(exp.Column, bfs=False):
        if column.table or column.name in found or column.name == "_metadata":
            continue
        if isinstance(column.parent, exp.Dot):  # _metadata.file_path
            continue
        found.append(column.name)
    return found


def require_source_columns(
    cfg: RunConfig, name: str, source: str, landed: str, available: Sequence[str]
) -> None:
    """A source that lost a column the load maps fails before reading it, naming both."""
    have = {column.lower() for column in available}
    missing = [c for c in landed_source_columns(landed) if c.lower() not in have]
    if missing:
        raise PipelineError(
            f"{name} for {cfg.logical_date}: the source {source} has no column(s) "
            f"{', '.join(missing)}, which transforms/bronze/{name}.py maps (it has: "
            f"{', '.join(available)}). The source changed: map what replaced them in the "
            "transform, or restore them in the source."
        )


def require_current_source(cfg: RunConfig, name: str, table: SourceTable, raw: Any) -> str | None:
    """With ``table.current_through``: refuse a date after the last one the source
    describes; otherwise what to record of the snapshot read (None without it)."""
    if not table.current_through:
        return None
    with raw.cursor() as cur:
        cur.execute(table.current_through)
        row = cur.fetchone()
    raw.rollback()
    through = row[0] if row else None
    if isinstance(through, datetime):
        through = through.date()
    where = f"transforms/bronze/{name}.py"
    if not isinstance(through, date):
        raise PipelineError(
            f"{name} for {cfg.logical_date}: the source's current_through query returned "
            f"{through!r}, not a date ({where}): it must say up to which date "
            f"{table.relation} is current."
        )
    if cfg.logical_date > through:
        raise PipelineError(
            f"{name} for {cfg.logical_date}: {table.relation} is current through {through} "
            f"only, so its rows are not {cfg.logical_date}'s yet (a snapshot read now would be "
            "stamped with a later date). Run the day once the source has it (current_through "
            f"in {where})."
        )
    return f"snapshot current through {through}, read at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"


def source_currency(cfg: RunConfig, name: str, table: SourceTable) -> str | None:
    """:func:`require_current_source` on a connection of its own to the source."""
    if not table.current_through:
        return None
    from src.utils.connections import connect_raw

    raw = connect_raw(source_connection(cfg, table, name))
    try:
        return require_current_source(cfg, name, table, raw)
    finally:
        raw.close()


def require_rows(cfg: RunConfig, name: str, rows: int, source: str, empty_ok: bool) -> None:
    """A bronze load that found nothing fails, naming the source and the date, so the
    load log never says ``succeeded`` for data the load did not see (a late source would
    otherwise be skipped as loaded once it arrives)."""
    if rows or empty_ok:
        return
    raise PipelineError(
        f"{name} for {cfg.logical_date}: the source {source} has no rows for the date, so "
        "nothing was loaded (the load is recorded as failed). If the source is late, run "
        "the load again once its data is there; if an empty day is normal for this source, "
        f"declare BronzeAppend(..., empty_ok=True) in transforms/bronze/{name}.py."
    )


@dataclass(frozen=True)
class SnapshotIntoHistory:
    """Merge one day's master-data snapshot into a temporal table (see :mod:`.silver`).

    Steps over the bronze batch (view ``bronze_view``) and ``lookups``: each ``prepare``
    step (a view under its name) runs first; ``checked`` adds a ``rule`` column (NULL when
    the row is valid); ``snapshot`` selects the key, ``columns`` and ``is_valid`` from
    ``checked``; ``rejects`` selects ``record_key, rule, record``.
    """

    layer: ClassVar[str] = "silver"
    input: str  # the bronze load whose batch is the snapshot
    bronze_table: str
    bronze_view: str
    hist: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    checked: str
    snapshot: str
    rejects: str
    lookups: Mapping[str, Read] = field(default_factory=dict)
    prepare: Mapping[str, str] = field(default_factory=dict)
    quarantine: str = "silver.quarantine"

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.hist, self.quarantine)

    def run(self, spark: SparkSession, cfg: RunConfig, name: str) -> TransformResult:
        from src._base.engines.spark import SparkSteps
        from src._base.pipeline.silver import run_silver_load, snapshot_steps

        return run_silver_load(
            self, cfg, name, lambda claim: SparkSteps(spark, claim, name), snapshot_steps
        )


@dataclass(frozen=True)
class GoldSnapshot:
    """Make a gold table's rows of the logical date the last step's result (see :mod:`.gold`).

    Steps run in order over ``reads``, each registered as a view under its name. The
    target is a temporal table keyed by ``keys`` (``business_date`` first), so every
    reported version stays readable; reads take silver and gold as of ``{known_at}``.
    """

    layer: ClassVar[str] = "gold"
    inputs: tuple[str, ...]
    reads: Mapping[str, Read]
    steps: Mapping[str, str]
    target: str
    keys: tuple[str, ...]

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.target,)

    def run(self, spark: SparkSession, cfg: RunConfig, name: str) -> TransformResult:
        from src._base.engines.spark import SparkSteps
        from src._base.pipeline.gold import run_gold_snapshot

        return run_gold_snapshot(self, cfg, name, lambda claim: SparkSteps(spark, claim, name))


@dataclass(frozen=True)
class Custom:
    """The escape hatch: ``run(spark, cfg, name)`` in Python, inputs and outputs declared."""

    layer: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    run_function: Callable[[Any, RunConfig, str], TransformResult]

    def run(self, spark: SparkSession, cfg: RunConfig, name: str) -> TransformResult:
        return self.run_function(spark, cfg, name)


@dataclass(frozen=True)
class ReplaceRows:
    """A :class:`SilverBatchLoad` publication as data: the rows of ``target`` matching
    ``where`` (PostgreSQL, formatted with the run's parameters) replaced by the staged
    ``step``'s ``columns``. Called as ``publish(staged, cfg)`` like any publication; being
    data, it is also what a port can carry to another platform."""

    target: str
    step: str
    columns: tuple[str, ...]
    where: str

    def __call__(self, staged: Mapping[str, str], cfg: RunConfig) -> list[str]:
        from src._base.pipeline.merge import replace_sql

        where = self.where.format(**cfg.params())
        return replace_sql(self.target, staged[self.step], self.columns, where)


@dataclass(frozen=True)
class UpsertRows:
    """A publication as data: the staged ``step``'s rows into ``target`` by ``key``. A new
    key is inserted (``columns``); an existing row takes the ``update`` columns when its
    ``newer`` column is not later than the staged row's and one of them differs, so a
    late event never overwrites a newer state. ``order_by``: the insert order."""

    target: str
    step: str
    key: str
    columns: tuple[str, ...]
    update: tuple[str, ...]
    newer: str
    order_by: str = ""

    def __call__(self, staged: Mapping[str, str], cfg: RunConfig) -> list[str]:
        names = ", ".join(self.columns)
        sets = ", ".join(f"{c} = excluded.{c}" for c in self.update)
        before = ", ".join(f"t.{c}" for c in self.update)
        after = ", ".join(f"excluded.{c}" for c in self.update)
        order = f" ORDER BY {self.order_by}" if self.order_by else ""
        return [
            f"INSERT INTO {self.target} AS t ({names}) SELECT {names} FROM {staged[self.step]}"
            f"{order} ON CONFLICT ({self.key}) DO UPDATE SET {sets}"
            f" WHERE t.{self.newer} <= excluded.{self.newer}"
            f" AND ({before}) IS DISTINCT FROM ({after})"
        ]


@dataclass(frozen=True)
class MergeHistory:
    """A publication as data: the current versions of the temporal ``hist`` made equal to
    the rows of ``source`` (a PostgreSQL SELECT; ``{stage}`` in it is the staged ``step``'s
    table), versioned at the date's system time. Keys ``source`` lacks stay as they are."""

    hist: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    step: str
    source: str

    def __call__(self, staged: Mapping[str, str], cfg: RunConfig) -> list[str]:
        from src._base.pipeline.merge import temporal_merge_sql

        rows = f"({self.source.format(stage=staged[self.step])})"
        return temporal_merge_sql(self.hist, self.keys, self.columns, rows, delete_missing=False)


@dataclass(frozen=True)
class Publications:
    """Several publications, applied in order in the load's one transaction."""

    parts: tuple[Any, ...]

    def __call__(self, staged: Mapping[str, str], cfg: RunConfig) -> list[str]:
        return [sql for part in self.parts for sql in part(staged, cfg)]


@dataclass(frozen=True)
class SilverBatchLoad:
    """Validate one bronze batch with declared steps; publish with the transform's own SQL.

    Steps, over the batch (view ``bronze_view``) and ``lookups``: each ``prepare`` step (a
    view under its name) runs first; ``checked`` adds a ``rule`` column (NULL when valid);
    each ``staged`` step is staged as a table under its name (``{key}`` in it is the
    name-based UUID of ``key``); ``rejects`` selects ``record_key, rule, record`` for the
    quarantine; each ``notes`` step gives one number to report. ``publish(staged, cfg)``
    returns the SQL that applies the staged tables (``{step name: table}``); declared
    as data (:class:`ReplaceRows`, :class:`UpsertRows`, :class:`MergeHistory`, several
    in :class:`Publications`) it is also portable to other platforms. ``in_order``
    loads keep history: days load in order and versions start at the date's system time.
    """

    layer: ClassVar[str] = "silver"
    input: str
    bronze_table: str
    bronze_view: str
    checked: str
    staged: Mapping[str, str]
    rejects: str
    publish: Callable[[Mapping[str, str], RunConfig], list[str]]
    outputs: tuple[str, ...]
    lookups: Mapping[str, Read] = field(default_factory=dict)
    key: str = ""
    types: Mapping[str, str] = field(default_factory=dict)  # staged column -> PostgreSQL type
    notes: Mapping[str, str] = field(default_factory=dict)
    prepare: Mapping[str, str] = field(default_factory=dict)
    extra_inputs: tuple[str, ...] = ()
    in_order: bool = False
    quarantine: str = "silver.quarantine"

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input, *self.extra_inputs)

    def run(self, spark: SparkSession, cfg: RunConfig, name: str) -> TransformResult:
        from src._base.engines.spark import SparkSteps
        from src._base.pipeline.silver import batch_steps, run_silver_load

        return run_silver_load(
            self, cfg, name, lambda claim: SparkSteps(spark, claim, name), batch_steps
        )


SHAPES = (BronzeAppend, SnapshotIntoHistory, GoldSnapshot, SilverBatchLoad, Custom)

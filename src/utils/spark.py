"""One way to get a SparkSession, and PostgreSQL reads and writes for transforms.

PySpark is imported inside the functions: importing this module stays light.

    spark = build_spark_session(settings)
    trades = read_table(spark, conn, "bronze.br_trade", partition_column="logical_date")
    write_copy(df, conn, "silver.trade")          # COPY from each partition: the fast path
    write_jdbc(df, conn, "silver.trade")          # Spark's JDBC writer: the fallback
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from src.config import SRC_PATH, ConnectionSettings, Settings
from src.utils.errors import ConfigError, SparkUnreachable

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

DEBIAN_JDBC_JAR = Path("/usr/share/java/postgresql.jar")
# Start-up is most of a small job's time: C1-only JIT cut it from 14.5 s to 10.3 s here.
FAST_START_JVM = "-XX:+UseParallelGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"


def find_jdbc_jar(settings: Settings) -> Path:
    """The PostgreSQL JDBC driver: MEDALLION_JDBC_JAR, else Debian's package file."""
    candidates = [settings.jdbc_jar] if settings.jdbc_jar else [DEBIAN_JDBC_JAR]
    for jar in candidates:
        if jar.is_file():
            return jar
    raise ConfigError(
        f"PostgreSQL's JDBC driver was not found (looked at {', '.join(map(str, candidates))}). "
        "Install it (make jdbc, or apt-get install libpostgresql-jdbc-java) or set "
        "MEDALLION_JDBC_JAR to a postgresql-<version>.jar."
    )


def project_archive(folder: Path) -> Path:
    """The project's code (the ``src`` package) as a zip for the executors'
    ``sys.path``: what a cluster's workers need to run the COPY writer and UDF-free
    helpers the driver ships them. Written afresh for each session."""
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "medallion-src.zip"
    partial = archive.with_suffix(f".{os.getpid()}.tmp")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(SRC_PATH.rglob("*.py")):
            out.write(path, path.relative_to(SRC_PATH.parent))
    partial.replace(archive)
    return archive


def cluster_conf(settings: Settings) -> dict[str, str]:
    """What a session on a cluster adds: the executors' Python, the project's code
    (``spark.submit.pyFiles``), a packed environment, and the driver's address."""
    conf = {
        "spark.pyspark.python": settings.spark_python or sys.executable,
        "spark.submit.pyFiles": str(project_archive(settings.spark_log.parent / "spark")),
    }
    if settings.spark_archives:
        conf["spark.archives"] = settings.spark_archives
    if settings.spark_driver_host:
        conf["spark.driver.host"] = settings.spark_driver_host
        conf["spark.driver.bindAddress"] = settings.spark_driver_host
    return conf


def spark_conf(settings: Settings) -> dict[str, str]:
    """The settings every session gets; any ``spark.*`` may be overridden by the cluster."""
    cluster = {} if settings.spark_master.startswith("local") else cluster_conf(settings)
    return cluster | {
        "spark.master": settings.spark_master,
        "spark.app.name": "medallion",
        "spark.jars": str(find_jdbc_jar(settings)),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        # local mode runs executors inside the driver: this is all of Spark's memory
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.driver.extraJavaOptions": FAST_START_JVM,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.ansi.enabled": "true",
    }


def build_spark_session(settings: Settings) -> SparkSession:
    """Get (or reuse) the process's SparkSession, local by default."""
    from pyspark.sql import SparkSession

    if settings.spark_remote:
        return connect_session(settings)
    if settings.spark_master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers must be the project's interpreter (its venv), not PATH's python3:
    # this one, or on a cluster MEDALLION_SPARK_PYTHON (e.g. a packed environment's).
    os.environ.setdefault("PYSPARK_PYTHON", settings.spark_python or sys.executable)
    builder = SparkSession.builder
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    if SparkSession.getActiveSession() is not None:
        return builder.getOrCreate()
    with console_to(settings.spark_log):  # the JVM starts here and keeps these descriptors
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    log.info("Spark's own output (JVM warnings, log lines) goes to %s", settings.spark_log)
    return session


# What a Connect client may set for its own session; the rest is the server's.
SESSION_CONF = ("spark.sql.session.timeZone", "spark.sql.shuffle.partitions",
                "spark.sql.ansi.enabled")  # fmt: skip


def is_connect(spark: SparkSession) -> bool:
    """Whether ``spark`` is a Spark Connect client (no JVM here: no ``_jvm``, no
    ``sparkContext``)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def connect_address(remote: str) -> tuple[str, int]:
    """The host and port of an ``sc://host:port[/;params]`` URL (port 15002 if none)."""
    from urllib.parse import urlsplit

    parts = urlsplit(remote)
    try:
        port = parts.port or 15002
    except ValueError:
        port = None
    if parts.scheme != "sc" or not parts.hostname or port is None:
        raise ConfigError(
            f"MEDALLION_SPARK_REMOTE={remote!r} is not a Spark Connect URL: give "
            "sc://host:port, e.g. sc://127.0.0.1:15002 (scripts/spark_connect.py runs one)."
        )
    return parts.hostname, port


def require_connect_server(remote: str, timeout: float = 5.0) -> None:
    """Fail at once, naming the setting, when nothing listens at the Connect URL (the
    client itself would retry for minutes)."""
    import socket

    host, port = connect_address(remote)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise SparkUnreachable(
            f"No Spark Connect server answers at {host}:{port} (MEDALLION_SPARK_REMOTE="
            f"{remote}): {exc.strerror or exc}. Start one (scripts/spark_connect.py --port "
            f"{port}), or unset MEDALLION_SPARK_REMOTE to run Spark in this process."
        ) from None


def connect_session(settings: Settings) -> SparkSession:
    """A session on the Spark Connect server at ``MEDALLION_SPARK_REMOTE``: no JVM in
    this process. The session's SQL settings are the ones a local session gets."""
    from pyspark.sql import SparkSession

    require_connect_server(settings.spark_remote)
    conf = spark_conf(settings)
    builder = SparkSession.builder.remote(settings.spark_remote)
    for key in SESSION_CONF:
        builder = builder.config(key, conf[key])
    session = builder.getOrCreate()
    log.info("Spark: the Connect server at %s", settings.spark_remote)
    return session


@contextmanager
def console_to(path: Path) -> Iterator[None]:
    """Point this process's stdout and stderr descriptors at ``path`` for the block.

    A child started inside (Spark's JVM) inherits them for its whole life; Python's own
    ``sys.stdout``/``sys.stderr`` are flushed first and write to the terminal again after.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    saved = [os.dup(1), os.dup(2)]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (target, *saved):
            os.close(fd)


def jdbc_url(conn: ConnectionSettings, database: str | None = None) -> str:
    # stringtype=unspecified lets PostgreSQL cast strings to uuid, jsonb, enums...
    return (
        f"jdbc:postgresql://{conn.host}:{conn.port}/{database or conn.database}"
        "?stringtype=unspecified"
    )


def jdbc_options(conn: ConnectionSettings, table: str) -> dict[str, str]:
    options = {
        "url": jdbc_url(conn),
        "dbtable": table,
        "user": conn.user,
        "driver": "org.postgresql.Driver",
    }
    if conn.password is not None:
        options["password"] = conn.password.get_secret_value()
    return options


def read_table(
    spark: SparkSession,
    conn: ConnectionSettings,
    table: str,
    *,
    partition_column: str | None = None,
    bounds: tuple[Any, Any] | None = None,
    partitions: int = 4,
) -> DataFrame:
    """Read a table or ``(SELECT ...) AS q``; partitioned when a column and bounds are given."""
    reader = spark.read.format("jdbc").options(**jdbc_options(conn, table))
    if partition_column and bounds:
        reader = reader.options(
            partitionColumn=partition_column,
            lowerBound=str(bounds[0]),
            upperBound=str(bounds[1]),
            numPartitions=str(partitions),
        )
    return reader.load()


def write_jdbc(df: DataFrame, conn: ConnectionSettings, table: str, mode: str = "append") -> None:
    """Spark's own JDBC writer (batched INSERTs): the fallback path."""
    df.write.format("jdbc").options(**jdbc_options(conn, table)).mode(mode).save()


# How Spark renders rows for COPY ... (FORMAT csv): NULL unquoted-empty, '' as "",
# timestamps to the microsecond with their offset (the session is UTC).
CSV_OPTIONS = {
    "escape": '"',  # PostgreSQL doubles quotes inside quoted fields
    "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "timestampNTZFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSS",
    "dateFormat": "yyyy-MM-dd",
}


class _ChunkStream(io.TextIOBase):
    """A file-like object over an iterator of CSV text blocks, read by psycopg2's COPY."""

    def __init__(self, chunks: Iterable[str]) -> None:
        self._chunks = iter(chunks)
        self._buffer = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer = self._buffer + chunk if self._buffer else chunk
        if size < 0 or size >= len(self._buffer):
            chunk, self._buffer = self._buffer, ""
            return chunk
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        return chunk


COPY_READ_SIZE = 1 << 20  # psycopg2 reads the stream in blocks of this many characters


def copy_chunks(
    conn: ConnectionSettings, table: str, columns: list[str], chunks: Iterable[str]
) -> None:
    """Stream CSV text blocks into ``table`` with one COPY. Runs on executors."""
    from src.utils.connections import connect_raw

    names = ", ".join(f'"{c}"' for c in columns)
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)"
            cur.copy_expert(sql, _ChunkStream(chunks), size=COPY_READ_SIZE)
        raw.commit()
    finally:
        raw.close()


def write_copy(df: DataFrame, conn: ConnectionSettings, table: str) -> int:
    """Append ``df`` to ``table`` with COPY from each partition (the fast path).

    Spark renders each row as a CSV line in the JVM (``to_csv``); Python only streams the
    lines, in Arrow batches, into one COPY per partition. Each partition commits on its
    own, as Spark's JDBC writer does: a failed task leaves the partitions that finished, so
    callers that need all-or-nothing write into a staging table first.
    """
    from pyspark.sql import functions as sf

    columns = df.columns
    lines = df.select(sf.to_csv(sf.struct(*columns), CSV_OPTIONS).alias("line"))

    def copy_partition(batches: Iterable[Any]) -> Iterable[Any]:
        import pyarrow as pa

        counted = [0]

        def chunks() -> Iterable[str]:
            for batch in batches:
                counted[0] += batch.num_rows
                if batch.num_rows:
                    yield "\n".join(batch.column(0).to_pylist()) + "\n"

        copy_chunks(conn, table, columns, chunks())
        yield pa.RecordBatch.from_pydict({"rows": [counted[0]]})

    counts = lines.mapInArrow(copy_partition, "rows long").collect()
    total = int(sum(row.rows for row in counts))
    log.debug("COPY wrote %d rows into %s", total, table)
    return total

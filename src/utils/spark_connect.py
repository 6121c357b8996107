"""A long-lived Spark Connect server for this project: jobs (Airflow tasks above all) talk
to it with ``MEDALLION_SPARK_REMOTE=sc://host:port`` instead of starting a JVM each.

    server = connect_server(settings, port=15002)
    code = run_connect_server(server, settings.spark_log.parent / "spark-connect.log")

The server is PySpark's own (``spark-submit --class ...SparkConnectServer``, the jar ships
with PySpark), started with every setting a local session of this project gets (master,
JDBC driver, memory, JVM options; on a cluster the executors' Python and the project's
code), so a job gives the same results through it as in its own process. Its Python
workers are this interpreter: the project's COPY writer runs there.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from src.config import PROJECT_ROOT, Settings
from src.utils.errors import ConfigError
from src.utils.pg_binaries import port_in_use
from src.utils.processes import interrupt_on_sigterm, log_tail, stop_process_group
from src.utils.spark import spark_conf

log = logging.getLogger(__name__)

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
DEFAULT_PORT = 15002


@dataclass(frozen=True)
class ConnectServer:
    """How to start the server: its command, environment and address; ``warm_up``: run
    small queries before it is called ready (MEDALLION_SPARK_CONNECT_WARM_UP)."""

    command: list[str]
    env: dict[str, str] = field(repr=False)
    host: str
    port: int
    warm_up: bool = True

    @property
    def url(self) -> str:
        """What clients set as MEDALLION_SPARK_REMOTE."""
        return f"sc://{self.host}:{self.port}"


def connect_server(
    settings: Settings, port: int = DEFAULT_PORT, host: str = "127.0.0.1"
) -> ConnectServer:
    """The server for ``settings``' Spark (``MEDALLION_SPARK_MASTER`` and the rest),
    listening on ``host``:``port``."""
    bin_dir = Path(sys.executable).parent
    conf = spark_conf(settings) | {
        "spark.app.name": "medallion-connect",
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(port),
    }
    command = [str(bin_dir / "spark-submit"), "--class", SERVER_CLASS]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    env = {
        **os.environ,
        # PySpark's launch scripts find each other (and Spark's home) on PATH
        "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
        "PYSPARK_PYTHON": settings.spark_python or sys.executable,
    }
    if settings.spark_master.startswith("local"):
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return ConnectServer(command, env, host, port, warm_up=settings.spark_connect_warm_up)


def listening(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts connections at ``host``:``port``."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def check_free(host: str, port: int) -> None:
    """Refuse a port something already listens on, before a JVM is started."""
    if reason := port_in_use(host, port):
        raise ConfigError(
            f"Port {port} is taken ({reason}): a Spark Connect server may already run there "
            f"(point MEDALLION_SPARK_REMOTE=sc://{host}:{port} at it), or pass another --port."
        )


def start_connect_server(server: ConnectServer, log_path: Path) -> subprocess.Popen:
    """Start the server in a process group of its own, its output to ``log_path``."""
    check_free(server.host, server.port)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            server.command, env=server.env, cwd=PROJECT_ROOT, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_ready(
    server: ConnectServer, process: subprocess.Popen, log_path: Path, timeout: float = 180.0
) -> None:
    """Return once the server accepts connections; raise, with the end of its log, when
    it exits first or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not listening(server.host, server.port):
        if process.poll() is not None:
            raise ConfigError(
                f"The Spark Connect server exited with code {process.returncode} before it "
                f"listened on {server.host}:{server.port}. The end of its log ({log_path}):\n"
                f"{log_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            stop_connect_server(process)
            raise ConfigError(
                f"The Spark Connect server did not listen on {server.host}:{server.port} "
                f"within {timeout:.0f} s; its log: {log_path}"
            )
        time.sleep(0.5)


def stop_connect_server(process: subprocess.Popen, grace: float = 20.0) -> None:
    """Stop the server and everything it started (its Python workers)."""
    stop_process_group(process, grace)


def run_connect_server(
    server: ConnectServer, log_path: Path, stop: threading.Event | None = None
) -> int:
    """Run the server until Ctrl-C, SIGTERM or ``stop`` (0), or until it dies (1)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt_on_sigterm)
    process = start_connect_server(server, log_path)
    try:
        wait_ready(server, process, log_path)
        warm_up_now(server)
        log.info(
            "Spark Connect is ready: MEDALLION_SPARK_REMOTE=%s (its log: %s)", server.url, log_path
        )
        while process.poll() is None:
            if stop is not None and stop.wait(1.0):
                return 0
            if stop is None:
                time.sleep(1.0)
        log.error(
            "The Spark Connect server exited with code %s. The end of its log (%s):\n%s",
            process.returncode, log_path, log_tail(log_path),
        )  # fmt: skip
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_connect_server(process)


def _count_batches(batches: Any) -> Any:
    import pyarrow as pa

    yield pa.RecordBatch.from_pydict({"rows": [sum(b.num_rows for b in batches)]})


def warm_up(url: str, folder: Path) -> float:
    """Run small queries of the kinds a day's loads run (Parquet written and read, a
    join, aggregates, a window, CSV rendering, a Python ``mapInArrow``) on the server at
    ``url``, so the first real job finds Spark's code compiled and its Python workers
    started; seconds taken. ``folder``: a scratch folder the server can write."""
    from pyspark.sql.connect import functions as sf  # Connect's own, even beside a JVM
    from pyspark.sql.connect.session import SparkSession as RemoteSession
    from pyspark.sql.connect.window import Window

    started = time.monotonic()
    spark = RemoteSession.builder.remote(url).create()
    try:
        rows = (
            spark.range(2000)
            .withColumn("key", (sf.col("id") % 40).cast("string"))
            .withColumn("at", sf.timestamp_seconds(sf.col("id") * 60))
            .withColumn("price", (sf.col("id") / 7).cast("decimal(18,6)"))
        )
        path = str(folder / "medallion-warm-up.parquet")
        rows.write.mode("overwrite").parquet(path)
        read = spark.read.parquet(path)
        keys = read.groupBy("key").agg(sf.count("*").alias("n"), sf.max("price").alias("top"))
        ranked = read.join(keys, "key").withColumn(
            "rank", sf.row_number().over(Window.partitionBy("key").orderBy(sf.desc("at")))
        )
        lines = ranked.where("rank <= 3").select(sf.to_csv(sf.struct(*ranked.columns)).alias("l"))
        lines.mapInArrow(_count_batches, "rows long").collect()
        ranked.dropDuplicates(["key", "n"]).toArrow()
    finally:
        spark.stop()
    return time.monotonic() - started


def warm_up_now(server: ConnectServer, timeout: float = 180.0) -> bool:
    """Warm the server up (:func:`warm_up`) once it listens, unless ``server.warm_up`` is
    off; False, logged, when it could not be: the server works all the same, its first
    jobs are only slower."""
    if not server.warm_up:
        return False
    deadline = time.monotonic() + timeout
    try:
        while not listening(server.host, server.port):
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {server.host}:{server.port}")
            time.sleep(0.5)
        with tempfile.TemporaryDirectory(prefix="medallion-warm-up-") as folder:
            seconds = warm_up(server.url, Path(folder))
    except Exception as exc:
        log.warning("Spark Connect was not warmed up (%s: %s); its first jobs run slower",
                    type(exc).__name__, exc)  # fmt: skip
        return False
    log.info("Spark Connect warmed up in %.1f s (its first jobs find Spark's code compiled)",
             seconds)  # fmt: skip
    return True


def warm_up_later(server: ConnectServer) -> threading.Event:
    """:func:`warm_up_now` in a thread; the event is set when it has finished either way."""
    done = threading.Event()

    def run() -> None:
        try:
            warm_up_now(server)
        finally:
            done.set()

    threading.Thread(target=run, name="spark-connect-warm-up", daemon=True).start()
    return done

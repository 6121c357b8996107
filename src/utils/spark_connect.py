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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

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
    """How to start the server: its command, environment and address."""

    command: list[str]
    env: dict[str, str] = field(repr=False)
    host: str
    port: int

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
    return ConnectServer(command, env, host, port)


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

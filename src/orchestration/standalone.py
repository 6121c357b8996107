"""Airflow's components for this project on one machine, supervised: the UI and API, the
scheduler (LocalExecutor), the DAG processor and the triggerer; beside them the run
labeller (each run's note: its data dates) and, if asked, a Spark Connect server.

    code = run_standalone(settings.airflow_home, settings.dags_folder, port=8080)

``airflow standalone`` does the same, but keeps running when a component dies, finds
``airflow`` only on PATH, and needs two settings changed together to move the UI to
another port. Here every component is started from this interpreter's ``airflow``
(the virtualenv need not be on PATH, and the components' own children find it too),
the API's port sets the base URL the tasks reach the execution API at, a port Airflow
itself uses (its log servers) or one already taken is refused before anything starts,
and when one component exits the others are stopped and the exit code is 1, naming it
and the end of its log (each component logs to ``<home>/logs/standalone/<name>.log``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from src.config import ConnectionSettings
from src.orchestration.local_airflow import airflow_environment
from src.utils.errors import ConfigError, PipelineError
from src.utils.pg_binaries import port_in_use
from src.utils.processes import interrupt_on_sigterm, log_tail
from src.utils.spark_connect import (
    ConnectServer,
    check_free,
    start_connect_server,
    warm_up_later,
)

log = logging.getLogger(__name__)

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
SPARK_CONNECT = "spark-connect"
RUN_LABELS = "run-labels"  # src.orchestration.run_labels: each run's note, its data dates
# Ports Airflow's own servers take on this machine (the log servers of the task runners
# and of the triggerer): an API server put there dies when they start.
AIRFLOW_PORTS = {8793: "the task log server", 8794: "the triggerer's log server"}
HEALTH = "/api/v2/monitor/health"
EXECUTION_HEALTH = "/execution/health"  # the API the tasks report to


def check_port(port: int, host: str = "127.0.0.1") -> None:
    """Refuse a port Airflow's own servers use, or one something already listens on."""
    if port in AIRFLOW_PORTS:
        raise ConfigError(
            f"Port {port} is {AIRFLOW_PORTS[port]}'s (Airflow starts it itself): give the UI "
            "another one, e.g. --port 8080."
        )
    if reason := port_in_use(host, port):
        raise ConfigError(
            f"Port {port} is taken ({reason}): stop what listens there, or pass another --port."
        )


def standalone_environment(
    home: Path, dags: Path | None, port: int, host: str = "127.0.0.1"
) -> dict[str, str]:
    """The components' environment: the project's Airflow settings, LocalExecutor, the UI
    on ``host``:``port`` (and the tasks' execution API at the same port), every user an
    admin (a local, single-user deployment), task logs at INFO (the loads' dates and
    row counts) unless AIRFLOW__LOGGING__LOGGING_LEVEL says otherwise, and this
    interpreter's ``bin`` first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        **airflow_environment(home, dags),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__HOST": host,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get(
            "AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"
        ),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
    }


METADATA_DATABASE = "airflow"


def postgres_metadata(conn: ConnectionSettings) -> dict[str, str]:
    """Airflow's metadata in the database ``airflow`` on ``conn``'s server (made if
    missing), instead of SQLite: what the scheduler and LocalExecutor run on in
    production. The password, if any, travels as PGPASSWORD in the components'
    environment, never in the URL Airflow may print."""
    from src._base.build.databases import database_exists
    from src.utils.connections import execute_autocommit, sqlalchemy_url

    if not database_exists(conn, METADATA_DATABASE):
        execute_autocommit(conn, f'CREATE DATABASE "{METADATA_DATABASE}"')
    url = sqlalchemy_url(replace(conn, password=None), METADATA_DATABASE)
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url.render_as_string(hide_password=False)}
    if conn.password is not None:
        env["PGPASSWORD"] = conn.password.get_secret_value()
    return env


def _healthy(port: int, path: str = HEALTH, timeout: float = 2.0) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal a component and everything it started (its own session: a dead scheduler's
    executor workers and log server are still in its group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _stop(processes: Mapping[str, subprocess.Popen], grace: float = 20.0) -> None:
    for process in processes.values():
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.1, deadline - time.monotonic()))
    for process in processes.values():  # what did not stop in time, and any orphans
        _signal_group(process, signal.SIGKILL)


def run_standalone(
    home: Path,
    dags: Path | None,
    port: int,
    *,
    host: str = "127.0.0.1",
    metadata: ConnectionSettings | None = None,
    ready_timeout: float = 180.0,
    stop: threading.Event | None = None,
    spark_connect: ConnectServer | None = None,
) -> int:
    """Start the components, wait until the UI answers, then watch them: 1 when one
    exits (the others are stopped), 0 when ``stop`` is set or on Ctrl-C. ``metadata``:
    keep Airflow's metadata on that PostgreSQL server (:func:`postgres_metadata`), not
    in ``home``'s SQLite file. ``spark_connect``: run that Spark Connect server beside
    them, supervised the same way, and point the tasks at it (MEDALLION_SPARK_REMOTE),
    so no task starts a JVM of its own; it is warmed up (small queries of the loads'
    kinds) before the components are called ready."""
    check_port(port, host)
    if spark_connect is not None:
        check_free(spark_connect.host, spark_connect.port)
    if threading.current_thread() is threading.main_thread():  # `kill` stops them all too
        signal.signal(signal.SIGTERM, interrupt_on_sigterm)
    env = standalone_environment(home, dags, port, host)
    if metadata is not None:
        env |= postgres_metadata(metadata)
    if spark_connect is not None:
        env["MEDALLION_SPARK_REMOTE"] = spark_connect.url
    airflow = str(Path(sys.executable).parent / "airflow")
    logs = home / "logs" / "standalone"
    logs.mkdir(parents=True, exist_ok=True)
    migrated = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, check=False
    )
    if migrated.returncode != 0:
        raise PipelineError(
            f"`airflow db migrate` failed for {home}: {migrated.stderr.strip()[-800:]}"
        )
    processes: dict[str, subprocess.Popen] = {}
    warmed: threading.Event | None = None
    try:
        if spark_connect is not None:
            processes[SPARK_CONNECT] = start_connect_server(
                spark_connect, logs / f"{SPARK_CONNECT}.log"
            )
            warmed = warm_up_later(spark_connect)  # listening, then warmed up
        for name in COMPONENTS:
            command = [airflow, name, *(["--port", str(port)] if name == "api-server" else [])]
            if name == "scheduler":  # its tasks fork with the project's modules loaded
                command = [sys.executable, "-m", "src.orchestration.scheduler"]
            with (logs / f"{name}.log").open("ab") as out:
                processes[name] = subprocess.Popen(
                    command, env=env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
        with (logs / f"{RUN_LABELS}.log").open("ab") as out:  # notes runs by their dates
            processes[RUN_LABELS] = subprocess.Popen(
                [sys.executable, "-m", "src.orchestration.run_labels"], env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        started = time.monotonic()
        ready = False
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    log.error(
                        "%s exited with code %s%s; stopping the others. The end of "
                        "its log (%s):\n%s",
                        f"Airflow's {name}" if name in COMPONENTS else name,
                        process.returncode, "" if ready else " before the UI was ready",
                        logs / f"{name}.log", log_tail(logs / f"{name}.log"),
                    )  # fmt: skip
                    return 1
            if (
                not ready
                and _healthy(port)
                and (warmed is None or warmed.is_set())
                # The API server builds the task execution API on its first request (5 s
                # here): done now, not by the first task, whose start would wait for it.
                and _healthy(port, EXECUTION_HEALTH, timeout=60)
            ):
                ready = True
                log.info(
                    "Airflow is ready: http://localhost:%d (components: %s; logs in %s)",
                    port, ", ".join(processes), logs,
                )  # fmt: skip
            if not ready and time.monotonic() - started > ready_timeout:
                log.error("The UI did not answer on port %d within %.0f s", port, ready_timeout)
                return 1
            if stop is not None and stop.wait(1.0):
                return 0
            if stop is None:
                time.sleep(1.0)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(processes)

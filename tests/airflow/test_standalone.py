"""``airflow_local.py standalone``: Airflow's four components on a port of our choosing,
started without the virtualenv on PATH, refused on a port Airflow itself uses or one
already taken, and stopped (exit 1, naming it) when one of them dies."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from scripts import airflow_local
from src.config import PROJECT_ROOT
from src.orchestration.standalone import HEALTH
from src.utils.connections import execute_autocommit
from src.utils.pg_binaries import free_port
from src.utils.spark_connect import listening
from tests.conftest import run_sql


def test_a_port_airflow_uses_itself_or_one_taken_is_refused_before_anything_starts(
    tmp_path, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("MEDALLION_AIRFLOW_HOME", str(tmp_path / "airflow"))
    assert airflow_local.main(["standalone", "--port", "8793"]) == 1
    assert "Port 8793 is the task log server's (Airflow starts it itself)" in caplog.text
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert airflow_local.main(["standalone", "--port", str(port)]) == 1
    assert f"Port {port} is taken" in caplog.text
    assert not (tmp_path / "airflow" / "logs" / "standalone").exists()  # nothing started


def _children(pid: int) -> dict[str, int]:
    """The command lines and pids of ``pid``'s children (psutil reads /proc: no ``ps``,
    which a slim machine may lack)."""
    found = {}
    for child in psutil.Process(pid).children():
        with contextlib.suppress(psutil.Error):  # one that has just ended
            found[" ".join(child.cmdline())] = child.pid
    return found


def _components(supervisor: subprocess.Popen, logs: Path, wait: float = 60.0) -> dict[str, int]:
    """The supervisor's six children (Airflow's four, Spark Connect, the run labeller),
    once all are
    listed (a slow machine may still be starting one when the UI answers). If the
    supervisor ends meanwhile, or they never are, fail with what it printed and the end
    of each component's log."""
    deadline = time.monotonic() + wait
    while True:
        children = _children(supervisor.pid)
        if len(children) == 6 and any("scheduler" in args for args in children):
            return children
        if supervisor.poll() is not None or time.monotonic() > deadline:
            if supervisor.poll() is None:
                supervisor.terminate()  # it stops the components, then exits
            err = supervisor.communicate(timeout=90)[1]
            tails = {
                log.name: log.read_text(errors="replace")[-2000:] for log in logs.glob("*.log")
            }
            raise AssertionError(f"components {children}; supervisor: {err[-3000:]}; logs {tails}")
        time.sleep(1)


def test_the_components_run_on_postgres_without_the_venv_on_path_and_a_death_stops_all(
    tmp_path, use_test_server
) -> None:
    """LocalExecutor with its metadata in PostgreSQL (the database 'airflow' on the
    project's server) and a Spark Connect server for the tasks, started from a shell
    whose PATH has no virtualenv."""
    port = free_port()
    env = {
        "HOME": os.environ.get("HOME", "/root"),
        "PATH": "/usr/bin:/bin",  # no virtualenv here: the components must still start
        "MEDALLION_AIRFLOW_HOME": str(tmp_path / "airflow"),
        "MEDALLION_SPARK_CONNECT_WARM_UP": "false",  # (the Connect day test warms one up)
        **{k: v for k, v in os.environ.items() if k.startswith("PG")},
    }
    connect = free_port()
    command = [sys.executable, "scripts/airflow_local.py", "standalone", "--port", str(port),
               "--metadata-db", "postgres", "--spark-connect", str(connect)]  # fmt: skip
    supervisor = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while True:
            assert supervisor.poll() is None, supervisor.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the UI never answered"
            try:
                if httpx.get(f"http://127.0.0.1:{port}{HEALTH}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(2)
        time.sleep(3)  # the supervisor checks once a second: it has seen it too
        metadata = use_test_server.with_database("airflow")
        assert run_sql(metadata, "SELECT count(*) FROM dag_run") == [(0,)]  # Airflow's tables
        assert not (tmp_path / "airflow" / "airflow.db").exists()  # no SQLite
        logs = tmp_path / "airflow" / "logs" / "standalone"
        children = _components(supervisor, logs)
        # ready once the execution API is built (the API server builds it on a first
        # request, which the supervisor makes)
        while "path=/execution/health" not in (logs / "api-server.log").read_text():
            assert supervisor.poll() is None, supervisor.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the execution API was never asked for"
            time.sleep(1)
        time.sleep(3)  # the supervisor checks once a second: it has seen it too
        [scheduler] = [pid for args, pid in children.items() if "scheduler" in args]
        assert any("SparkConnectServer" in args for args in children), children
        assert listening("127.0.0.1", connect)  # ready means the Connect server too
        [args] = [args for args, pid in children.items() if pid == scheduler]
        assert "-m src.orchestration.scheduler" in args  # its tasks fork with modules loaded
        mapped = [m.path for m in psutil.Process(scheduler).memory_maps()]
        assert any("libarrow" in path for path in mapped), "the Connect client is preloaded"
        tasks_env = psutil.Process(scheduler).environ()  # its executor starts the tasks
        assert tasks_env["MEDALLION_SPARK_REMOTE"] == f"sc://127.0.0.1:{connect}"
        os.kill(scheduler, signal.SIGKILL)
        _, err = supervisor.communicate(timeout=60)
    finally:
        if supervisor.poll() is None:  # the test failed early: SIGTERM stops the components
            supervisor.terminate()
            try:
                supervisor.wait(60)
            except subprocess.TimeoutExpired:
                supervisor.kill()
    execute_autocommit(use_test_server, 'DROP DATABASE IF EXISTS "airflow" WITH (FORCE)')
    assert supervisor.returncode == 1
    assert "Airflow is ready: http://localhost:" in err
    assert "Airflow's scheduler exited with code -9; stopping the others" in err
    groups = set(children.values())  # each component leads a process group of its own
    deadline = time.monotonic() + 15
    while _in_groups(groups):  # SIGKILLed: gone once the kernel has reaped them
        assert time.monotonic() < deadline, _in_groups(groups)
        time.sleep(0.2)


def _in_groups(groups: set[int]) -> list[str]:
    """The live (not zombie) processes in these process groups."""
    alive = []
    for process in psutil.process_iter(["pid", "status", "cmdline"]):
        with contextlib.suppress(psutil.Error, OSError):  # one that has just ended
            if os.getpgid(process.pid) in groups and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{process.pid} {' '.join(process.info['cmdline'] or [])}")
    return alive

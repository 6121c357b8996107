"""A data date under Airflow's real scheduler (LocalExecutor, metadata in PostgreSQL, the
postgres engine): triggered by date and labelled with it, a day whose sources are late
fails, a second trigger of the date is refused naming the way on, and once the sources
land the UI's Clear (the REST call its button makes) reruns the failed tasks and the
chain reaches gold, each run noted with its date; the CLI's clear reruns gold, which
changes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from src.config import PROJECT_ROOT, ConnectionSettings
from src.demo.generator import SourceSpec, generate_day
from src.utils.connections import execute_autocommit
from src.utils.pg_binaries import free_port
from src.utils.processes import stop_process_group
from tests.conftest import run_sql
from tests.demo.conftest import comparable_fingerprint

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 20)
DAGS = ("demo_bronze", "demo_silver", "demo_gold")


def _unscheduled(folder: Path) -> Path:
    """The project's DAGs, bronze started by triggers only (no daily run of its own)."""
    shutil.copytree(PROJECT_ROOT / "airflow" / "dags", folder, ignore=shutil.ignore_patterns(
        "__pycache__"))  # fmt: skip
    for path in (folder / "bronze").glob("*.py"):
        path.write_text(path.read_text().replace('schedule="@daily"', "schedule=None"))
    return folder


@pytest.fixture
def airflow(throwaway_server: ConnectionSettings, tmp_path: Path) -> Iterator[dict]:
    """Airflow's components on the demo (``demo__sched``) with an empty source database:
    the environment, the UI's port and the metadata database."""
    source = f"src_{uuid.uuid4().hex[:8]}"
    execute_autocommit(throwaway_server, f'CREATE DATABASE "{source}"')
    env = {
        "HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/bin:/bin",
        **{k: v for k, v in os.environ.items() if k.startswith("PG")},
        "MEDALLION_AIRFLOW_HOME": str(tmp_path / "airflow"),
        "MEDALLION_DAGS_FOLDER": str(_unscheduled(tmp_path / "dags")),
        "MEDALLION_SOURCE_DATABASE": source, "MEDALLION_LANDING_DIR": str(tmp_path / "landing"),
        "MEDALLION_ENV": "sched", "MEDALLION_ENGINE": "postgres",
        "MEDALLION_SOURCE_WAIT": "10", "MEDALLION_SOURCE_POKE": "3",
        "MEDALLION_API_PASSFILE": str(tmp_path / "api-pgpass"),
    }  # fmt: skip
    built = subprocess.run([sys.executable, "scripts/orchestrate_build.py", "postgres", "demo"],
                           cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    port = free_port()
    supervisor = subprocess.Popen(
        [sys.executable, "scripts/airflow_local.py", "standalone", "--port", str(port),
         "--metadata-db", "postgres"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    metadata = throwaway_server.with_database("airflow")
    try:
        _until(lambda: _parsed(metadata) == len(DAGS), supervisor, 240, "the DAGs were parsed")
        yield {"env": env, "port": port, "metadata": metadata, "source": source,
               "supervisor": supervisor}  # fmt: skip
    finally:
        stop_process_group(supervisor, 60)
        for database in ("airflow", source, "demo__sched"):
            execute_autocommit(
                throwaway_server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
            )


def _parsed(metadata: ConnectionSettings) -> int:
    try:
        return run_sql(metadata, "SELECT count(*) FROM dag WHERE dag_id = ANY(%s)",
                       (list(DAGS),))[0][0]  # fmt: skip
    except Exception:  # the database is still being made
        return 0


def _until(done, supervisor: subprocess.Popen, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert supervisor.poll() is None, supervisor.stderr.read()[-3000:]
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(2)


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/airflow_local.py", *args, "--metadata-db", "postgres"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _runs(metadata: ConnectionSettings) -> dict[str, list[tuple]]:
    rows = run_sql(
        metadata,
        "SELECT r.dag_id, r.run_id, r.state, n.content FROM dag_run r LEFT JOIN dag_run_note n"
        " ON n.dag_run_id = r.id ORDER BY r.id",
    )
    found: dict[str, list[tuple]] = {}
    for dag_id, run_id, state, note in rows:
        found.setdefault(dag_id, []).append((run_id, state, note))
    return found


def test_a_late_day_fails_is_cleared_from_the_ui_and_reaches_gold_labelled(
    airflow, throwaway_server: ConnectionSettings, tmp_path: Path
) -> None:
    env, metadata, supervisor = airflow["env"], airflow["metadata"], airflow["supervisor"]
    queued = _cli(env, "trigger", "demo_bronze", "--date", DAY.isoformat())
    assert queued.returncode == 0, queued.stderr[-2000:]
    assert "run data__2026-11-20__1" in queued.stderr
    base = f"http://127.0.0.1:{airflow['port']}"
    token = httpx.get(f"{base}/auth/token", timeout=10).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}  # a local deployment: every user an admin
    for dag_id in DAGS:
        unpaused = httpx.patch(f"{base}/api/v2/dags/{dag_id}", json={"is_paused": False},
                               headers=auth, timeout=30)  # fmt: skip
        assert unpaused.status_code == 200, unpaused.text

    # no sources yet: the loads stop waiting after MEDALLION_SOURCE_WAIT, the run fails
    def bronze_state() -> str:
        return _runs(metadata).get("demo_bronze", [("", "", "")])[0][1]

    _until(lambda: bronze_state() == "failed", supervisor, 180, "bronze failed")
    [(run_id, _, note)] = _runs(metadata)["demo_bronze"]
    assert (run_id, note) == ("data__2026-11-20__1", "data 2026-11-20")

    twice = _cli(env, "trigger", "demo_bronze", "--date", DAY.isoformat())
    assert twice.returncode == 1
    assert "demo_bronze already has a run for 2026-11-20 (data__2026-11-20__1, failed)" in (
        twice.stderr
    )
    assert "press Clear" in twice.stderr and "Traceback" not in twice.stderr

    spec = SourceSpec(seed=5, trades=80, instruments=4, portfolios=2)
    generate_day(throwaway_server.with_database(airflow["source"]), tmp_path / "landing", DAY,
                 spec)  # fmt: skip
    cleared = httpx.post(  # what the run's Clear button sends (only failed tasks)
        f"{base}/api/v2/dags/demo_bronze/dagRuns/{run_id}/clear",
        json={"dry_run": False, "only_failed": True}, headers=auth, timeout=30,
    )  # fmt: skip
    assert cleared.status_code == 200, cleared.text

    def gold_done() -> bool:
        return any(state == "success" for _, state, _ in _runs(metadata).get("demo_gold", []))

    _until(gold_done, supervisor, 300, "gold succeeded")
    runs = _runs(metadata)
    assert runs["demo_bronze"] == [("data__2026-11-20__1", "success", "data 2026-11-20")]
    for dag_id in DAGS[1:]:  # asset-triggered, named by Airflow by time: noted by date
        _until(lambda d=dag_id: _runs(metadata)[d][0][2] is not None, supervisor, 30, "noted")
        [(_, state, note)] = _runs(metadata)[dag_id]
        assert (state, note) == ("success", "data 2026-11-20")
    warehouse = throwaway_server.with_database("demo__sched")
    before = comparable_fingerprint(warehouse, ("silver", "gold"))
    assert before["gold.position_eod_hist"][0] > 0

    again = _cli(env, "clear", "demo_gold", "--date", DAY.isoformat(), "--all")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "cleared demo_gold for 2026-11-20" in again.stderr

    def gold_rerun() -> bool:
        [(_, state, _)] = _runs(metadata)["demo_gold"]
        return state == "success"

    time.sleep(3)
    _until(gold_rerun, supervisor, 180, "gold ran again")
    assert comparable_fingerprint(warehouse, ("silver", "gold")) == before


def test_trigger_on_a_metadata_database_airflow_never_ran_on_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "MEDALLION_AIRFLOW_HOME": str(tmp_path / "airflow")}
    ran = subprocess.run(
        [sys.executable, "scripts/airflow_local.py", "trigger", "demo_bronze", "--date",
         DAY.isoformat()],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 1
    said = ran.stderr + ran.stdout
    assert "Airflow's metadata database has no runs table: is Airflow running on it" in said
    assert "--metadata-db postgres" in said and "Traceback" not in said

"""Fault injection: a run killed (SIGKILL) at each phase of a load, then a plain rerun,
gives the warehouse a run that never failed gives.

The kills come from ``src/utils/faults.py``'s points (``MEDALLION_FAULT=<point>:<load>``),
in a real ``run_pipeline.py`` process on the postgres engine, one load at a time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from scripts import orchestrate_build, run_pipeline
from src.config import PROJECT_ROOT, ConnectionSettings
from src.demo.generator import SourceSpec
from tests.conftest import run_sql
from tests.demo.conftest import comparable_fingerprint
from tests.scripts.conftest import day_sources

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 20)
SPEC = SourceSpec(seed=9, trades=120, instruments=6, portfolios=3)
ENVS = ("demo__clean", "demo__faults")
# Each run dies at the next fault; the loads before it have published, so every run gets
# further. Bronze: the source landed, then part-way through streaming it; silver and gold:
# inside the publishing transaction, and right after its commit.
FAULTS = (
    "read:instrument_to_bronze",
    "copy:trade_to_bronze",
    "publishing:instrument_to_silver",
    "published:trade_to_silver",
    "publishing:position_to_gold",
)


@pytest.fixture
def sources(throwaway_server: ConnectionSettings, monkeypatch, tmp_path):
    with day_sources(throwaway_server, monkeypatch, tmp_path, DAY, SPEC, ENVS):
        yield throwaway_server


def _command(env: str) -> list[str]:
    return [
        sys.executable, "scripts/run_pipeline.py", "demo", "--date", DAY.isoformat(),
        "--engine", "postgres", "--workers", "1", "--env", env,
    ]  # fmt: skip


def _environment(fault: str | None, signal_file: Path | None = None) -> dict[str, str]:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("MEDALLION_FAULT")}
    if fault:
        child_env["MEDALLION_FAULT"] = fault
    if signal_file:
        child_env["MEDALLION_FAULT_SIGNAL"] = str(signal_file)
    return child_env


def _start(env: str, fault: str, signal_file: Path) -> subprocess.Popen:
    return subprocess.Popen(
        _command(env), cwd=PROJECT_ROOT, env=_environment(fault, signal_file),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _run(env: str, fault: str | None) -> subprocess.CompletedProcess:
    child_env = _environment(fault)
    command = _command(env)
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=child_env, capture_output=True, text=True, timeout=300
    )


def test_a_run_killed_in_any_phase_then_rerun_equals_a_run_that_never_failed(sources) -> None:
    server = sources
    for env in ("clean", "faults"):
        assert orchestrate_build.main(["postgres", "demo", "--env", env]) == 0
    run = ["demo", "--date", DAY.isoformat(), "--engine", "postgres", "--env", "clean"]
    assert run_pipeline.main(run) == 0

    for fault in FAULTS:
        died = _run("faults", fault)
        assert died.returncode == -signal.SIGKILL, (fault, died.stderr[-2000:])
        point, job = fault.split(":")
        assert f"fault injected at {point} of {job}" in died.stderr
        [(status,)] = run_sql(
            server.with_database("demo__faults"),
            "SELECT status FROM medallion.load_log WHERE job = %s",
            (job,),
        )
        # killed before its commit, the load says 'running' (the next claim marks it
        # failed); killed after, it is published
        assert status == ("succeeded" if point == "published" else "running"), fault

    rerun = _run("faults", None)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "process died" in rerun.stderr or "dead attempt" in rerun.stderr
    clean, recovered = (comparable_fingerprint(server.with_database(db)) for db in ENVS)
    assert recovered == clean
    leftovers = run_sql(
        server.with_database("demo__faults"),
        "SELECT relname FROM pg_class WHERE relname LIKE 'stage\\_%%' AND relkind = 'r'",
    )
    assert leftovers == []


def test_a_server_restart_inside_a_publication_is_one_line_and_a_rerun_repairs_it(
    tmp_path, monkeypatch
) -> None:
    """The warehouse's server restarts while a load is inside its publishing transaction:
    the run fails with one line naming the database's complaint (no traceback), and a
    plain rerun gives the warehouse a clean run gives."""
    from src.utils.embedded_postgres import EmbeddedPostgres
    from src.utils.pg_binaries import free_port
    from tests.conftest import FAST_UNSAFE_OPTIONS, point_entry_points_at

    server = EmbeddedPostgres(
        home=tmp_path / "pg", port=free_port(), server_options=FAST_UNSAFE_OPTIONS
    )
    conn = server.start()
    try:
        monkeypatch.delenv("PGPASSFILE", raising=False)
        point_entry_points_at(conn, monkeypatch, tmp_path)
        with day_sources(conn, monkeypatch, tmp_path, DAY, SPEC, ENVS):
            for env in ("clean", "faults"):
                assert orchestrate_build.main(["postgres", "demo", "--env", env]) == 0
            run = ["demo", "--date", DAY.isoformat(), "--engine", "postgres", "--env", "clean"]
            assert run_pipeline.main(run) == 0

            marker = tmp_path / "paused"
            child = _start("faults", "publishing:instrument_to_silver:wait", marker)
            deadline = time.monotonic() + 120
            while not marker.exists():
                assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()
                time.sleep(0.05)
            server.stop()  # inside the load's open transaction
            server.start()
            marker.unlink()
            _, err = child.communicate(timeout=120)
            assert child.returncode == 1, err[-3000:]
            [line] = [x for x in err.splitlines() if " ERROR " in x]
            assert "The database said: " in line and "start it again" in line, line
            assert "Traceback" not in err

            rerun = _run("faults", None)
            assert rerun.returncode == 0, rerun.stderr[-3000:]
            clean, recovered = (comparable_fingerprint(conn.with_database(db)) for db in ENVS)
            assert recovered == clean
    finally:
        server.destroy()

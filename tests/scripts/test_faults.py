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
from datetime import date

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


def _run(env: str, fault: str | None) -> subprocess.CompletedProcess:
    child_env = {k: v for k, v in os.environ.items() if k != "MEDALLION_FAULT"}
    if fault:
        child_env["MEDALLION_FAULT"] = fault
    command = [
        sys.executable, "scripts/run_pipeline.py", "demo", "--date", DAY.isoformat(),
        "--engine", "postgres", "--workers", "1", "--env", env,
    ]  # fmt: skip
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

"""Fixtures the command-line tests share."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from src.config import PROJECT_ROOT, ConnectionSettings, load_settings
from src.demo.generator import SourceSpec, generate_day
from src.demo.sources import generate_days
from src.utils.connections import execute_autocommit

TWO_DAYS = [date(2026, 11, 19), date(2026, 11, 20)]


@pytest.fixture
def two_small_days(
    throwaway_server: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:
    """Two small generated days (:data:`TWO_DAYS`) in a source database and landing folder
    of their own; the engine check warehouses are dropped afterwards."""
    name = f"src_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("MEDALLION_SOURCE_DATABASE", name)
    monkeypatch.setenv("MEDALLION_LANDING_DIR", str(tmp_path / "landing"))
    generate_days(
        load_settings(), throwaway_server, TWO_DAYS, SourceSpec(trades=300, instruments=10)
    )
    yield name
    for database in (name, "demo_check_spark", "demo_check_postgres"):
        execute_autocommit(throwaway_server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextmanager
def day_sources(
    server: ConnectionSettings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    day: date,
    spec: SourceSpec,
    databases: Sequence[str],
) -> Iterator[str]:
    """One generated day in a source database and landing folder of its own, which the
    entry points read (``MEDALLION_SOURCE_DATABASE``, ``MEDALLION_LANDING_DIR``); it and
    ``databases`` are dropped afterwards."""
    name = f"src_{uuid.uuid4().hex[:8]}"
    execute_autocommit(server, f'CREATE DATABASE "{name}"')
    generate_day(server.with_database(name), tmp_path / "landing", day, spec)
    monkeypatch.setenv("MEDALLION_SOURCE_DATABASE", name)
    monkeypatch.setenv("MEDALLION_LANDING_DIR", str(tmp_path / "landing"))
    try:
        yield name
    finally:
        for database in (name, *databases):
            execute_autocommit(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run_day_in_child(day: date, env_name: str, **settings: str) -> tuple[str, float]:
    """``run_pipeline.py demo --date day --engine spark --env env_name`` in a child process
    whose environment adds ``settings`` (a Spark master, a Connect URL): its stderr and
    seconds, once it has succeeded."""
    env = {**os.environ, **settings}
    env.pop("PYSPARK_PYTHON", None)  # found by the session itself, not inherited
    started = time.monotonic()
    ran = subprocess.run(
        [sys.executable, "scripts/run_pipeline.py", "demo", "--date", day.isoformat(),
         "--engine", "spark", "--env", env_name],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    return ran.stderr, time.monotonic() - started

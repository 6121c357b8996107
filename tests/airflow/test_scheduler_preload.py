"""The scheduler `standalone` runs: Airflow's own, with the tasks' modules loaded first."""

from __future__ import annotations

import logging
import subprocess
import sys

from src.config import PROJECT_ROOT
from src.orchestration.scheduler import TASK_MODULES, preload


def test_every_module_it_preloads_exists() -> None:
    """A renamed module would quietly cost every task its import again: caught here."""
    assert preload() == []
    assert all(name in sys.modules for name in TASK_MODULES)


def test_a_module_that_cannot_be_imported_is_logged_and_skipped(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="src.orchestration.scheduler"):
        failed = preload(["src.no_such_module", "src.utils.errors"])
    assert failed == ["src.no_such_module"]
    assert "not preloaded for the tasks: src.no_such_module (ModuleNotFoundError" in caplog.text


def test_it_runs_airflow_scheduler_with_the_arguments_given() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "src.orchestration.scheduler", "--help"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: airflow scheduler" in done.stdout.lower()

"""Fault injection: named points where a test makes the process die as a crash would.

    MEDALLION_FAULT=publishing:trade_to_silver python scripts/run_pipeline.py demo ...

``point("publishing", job)`` kills the process (SIGKILL: no clean-up, no ``finally``)
when ``MEDALLION_FAULT`` names that point and, after a colon, that load (or no load). The
points a load passes, in order: ``read`` (bronze, the source landed in the warehouse),
``copy`` (bronze, part-way through streaming a source table), ``copied`` (bronze on
Spark, the rows written, unpublished), ``publishing`` (inside the publishing
transaction, before its commit) and ``published`` (committed, before the statistics).
The suite's fault tests (``tests/scripts/test_faults.py``) kill a run at each and check
that a plain rerun gives the warehouse a run that never failed gives. Unset, a point
costs one dictionary lookup.

``<point>:<load>:wait`` pauses there instead: the process creates the file named by
``MEDALLION_FAULT_SIGNAL`` and waits (up to 2 minutes) until it is gone, so a test can
do something at that moment (restart the database server) and let the run go on.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

FAULT_VARIABLE = "MEDALLION_FAULT"
SIGNAL_VARIABLE = "MEDALLION_FAULT_SIGNAL"
POINTS = ("read", "copy", "copied", "publishing", "published")


def point(name: str, job: str = "") -> None:
    """Die here if ``MEDALLION_FAULT`` asks for ``name`` (and ``job``, when it names one)."""
    wanted = os.environ.get(FAULT_VARIABLE)
    if not wanted:
        return
    where, _, rest = wanted.partition(":")
    who, _, action = rest.partition(":")
    if where != name or who not in ("", job):
        return
    if action == "wait":
        _wait_here(name, job)
        return
    log.warning("fault injected at %s of %s: killing this process", name, job or "a load")
    os.kill(os.getpid(), signal.SIGKILL)


def _wait_here(name: str, job: str) -> None:
    signal_file = Path(os.environ[SIGNAL_VARIABLE])
    log.warning("fault injected at %s of %s: waiting for %s to go", name, job, signal_file)
    signal_file.touch()
    deadline = time.monotonic() + 120
    while signal_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)

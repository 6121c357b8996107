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
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

FAULT_VARIABLE = "MEDALLION_FAULT"
POINTS = ("read", "copy", "copied", "publishing", "published")


def point(name: str, job: str = "") -> None:
    """Die here if ``MEDALLION_FAULT`` asks for ``name`` (and ``job``, when it names one)."""
    wanted = os.environ.get(FAULT_VARIABLE)
    if not wanted:
        return
    where, _, who = wanted.partition(":")
    if where == name and who in ("", job):
        log.warning("fault injected at %s of %s: killing this process", name, job or "a load")
        os.kill(os.getpid(), signal.SIGKILL)

"""Transforms run side by side (postgres engine, ``workers=2``) give the warehouse that one
at a time gives: same silver, same gold, same rejects."""

from __future__ import annotations

from datetime import date

import pytest

from src.config import ConnectionSettings
from src.demo.generator import SourceSpec
from tests.demo.conftest import comparable_fingerprint, demo_databases, load_days

pytestmark = pytest.mark.postgres

DAYS = (date(2026, 11, 19), date(2026, 11, 20))
SPEC = SourceSpec(seed=23, instruments=10, portfolios=5, trades=300)


def test_side_by_side_equals_one_at_a_time(pg_server: ConnectionSettings, tmp_path) -> None:
    results = []
    for workers in (1, 2):
        with demo_databases(pg_server, tmp_path / "landing") as env:  # same file paths
            load_days(env, DAYS, SPEC, workers=workers)
            results.append(comparable_fingerprint(env.warehouse, ("silver", "gold")))
    one, two = results
    assert all(count for count, _ in one.values())  # every table has rows to compare
    assert two == one

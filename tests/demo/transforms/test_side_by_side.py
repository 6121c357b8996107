"""Transforms run side by side (postgres engine, ``workers=2``) give the warehouse that one
at a time gives: same silver, same gold, same rejects."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from src.config import ConnectionSettings
from src.demo.generator import SourceSpec
from src.utils.connections import connect_raw
from tests.demo.conftest import demo_databases, load_days

pytestmark = pytest.mark.postgres

DAYS = (date(2026, 11, 19), date(2026, 11, 20))
SPEC = SourceSpec(seed=23, instruments=10, portfolios=5, trades=300)
TABLES = """
SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname IN ('silver', 'gold') ORDER BY 1
"""
# generated per run: the quarantine's id, and its record names the bronze row's generated id
GENERATED = "'quarantine_id', 'record'"


def content(conn: ConnectionSettings) -> dict[str, Any]:
    """Rows and a hash of every silver and gold table (history included)."""
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute(TABLES)
            found = {}
            for (table,) in cur.fetchall():
                row = f"(to_jsonb(t) - ARRAY[{GENERATED}])::text"
                cur.execute(
                    f"SELECT count(*), md5(string_agg({row}, '|' ORDER BY {row})) FROM {table} t"
                )
                found[table] = cur.fetchone()
            return found
    finally:
        raw.close()


def test_side_by_side_equals_one_at_a_time(pg_server: ConnectionSettings, tmp_path) -> None:
    results = []
    for workers in (1, 2):
        with demo_databases(pg_server, tmp_path / f"landing{workers}") as env:
            load_days(env, DAYS, SPEC, workers=workers)
            results.append(content(env.warehouse))
    one, two = results
    assert all(count for count, _ in one.values())  # every table has rows to compare
    assert two == one

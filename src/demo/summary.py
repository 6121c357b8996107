"""The main job's closing summary: rows per layer and table, rejects by rule, run time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from src._base.build.project import DATA_LAYERS
from src.config import ConnectionSettings
from src.utils.connections import connect_raw

LAYERS = DATA_LAYERS
TABLES = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname = ANY(%s) ORDER BY 1, 2
"""
REJECTS = """
SELECT logical_date, job, rule, count(*) FROM silver.quarantine
WHERE logical_date = ANY(%s) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""


def table_counts(conn: ConnectionSettings) -> list[tuple[str, str, int]]:
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute(TABLES, (list(LAYERS),))
            tables = cur.fetchall()
            counts = []
            for schema, table in tables:
                cur.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
                counts.append((schema, table, cur.fetchone()[0]))
        return counts
    finally:
        raw.close()


def rejects_by_rule(conn: ConnectionSettings, days: Sequence[date]) -> list[tuple]:
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute(REJECTS, (list(days),))
            return cur.fetchall()
    finally:
        raw.close()


def render_summary(conn: ConnectionSettings, days: Sequence[date], seconds: float) -> str:
    lines = [f"Warehouse {conn.describe()} after {', '.join(map(str, days))}:"]
    counts = table_counts(conn)
    for layer in LAYERS:
        tables = [(t, n) for s, t, n in counts if s == layer]
        total = sum(n for _, n in tables)
        detail = ", ".join(f"{t} {n:,}" for t, n in tables)
        lines.append(f"  {layer:<7} {total:>10,} rows  ({detail})")
    lines.append("Rejected rows (silver.quarantine) by rule:")
    for day, job, rule, n in rejects_by_rule(conn, days):
        lines.append(f"  {day}  {job:<22} {rule:<24} {n:>7,}")
    lines.append(f"Run time: {seconds:.1f} s")
    return "\n".join(lines)

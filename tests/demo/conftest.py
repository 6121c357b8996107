"""A built demo warehouse and an empty source database per test, on the session's server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from src._base.build.steps import build_in_database
from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import run_transforms
from src._base.pipeline.run_config import RunConfig
from src.config import SRC_PATH, ConnectionSettings
from src.demo.generator import SourceSpec, generate_day
from src.utils.connections import connect_raw, execute_autocommit


@dataclass(frozen=True)
class DemoEnv:
    warehouse: ConnectionSettings
    source: ConnectionSettings
    landing: Path

    def config(self, day: date, **overrides: Any) -> RunConfig:
        return RunConfig(
            logical_date=day,
            warehouse=self.warehouse,
            source=self.source,
            landing_dir=self.landing,
            **overrides,
        )


def build_demo(conn: ConnectionSettings) -> None:
    """Schemas, tables and reference rows of the demo project in ``conn.database``."""
    for result in build_in_database(conn, SRC_PATH, "demo"):
        assert result.ok, result.failed


@contextmanager
def demo_databases(pg_server: ConnectionSettings, landing: Path) -> Iterator[DemoEnv]:
    """A built demo warehouse and an empty source database, dropped afterwards."""
    token = uuid.uuid4().hex[:10]
    names = (f"wh_{token}", f"src_{token}")
    for name in names:
        execute_autocommit(pg_server, f'CREATE DATABASE "{name}"')
    try:
        env = DemoEnv(pg_server.with_database(names[0]), pg_server.with_database(names[1]), landing)
        build_demo(env.warehouse)
        yield env
    finally:
        for name in names:
            execute_autocommit(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_days(env: DemoEnv, days: Sequence[date], spec: SourceSpec, *, workers: int = 1) -> None:
    """Generate each day's sources and run every transform on the postgres engine."""
    entries = load_catalogue(SRC_PATH, "demo").entries
    for day in days:
        generate_day(env.source, env.landing, day, spec)
        cfg = replace(env.config(day), engine="postgres")
        run_transforms(None, cfg, entries, workers=workers)


@pytest.fixture
def demo_env(pg_server: ConnectionSettings, tmp_path: Path) -> Iterator[DemoEnv]:
    with demo_databases(pg_server, tmp_path / "landing") as env:
        yield env


FINGERPRINT_TABLES = """
SELECT n.nspname || '.' || c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname IN ('bronze', 'silver', 'gold') ORDER BY 1
"""


def warehouse_fingerprint(conn: ConnectionSettings) -> dict[str, dict[str, Any]]:
    """Rows and a hash of every bronze, silver and gold table (history included), apart
    from the quarantine's generated id: equal fingerprints mean equal warehouses."""
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute(FINGERPRINT_TABLES)
            tables = [name for (name,) in cur.fetchall()]
            prints = {}
            for table in tables:
                row = "(to_jsonb(t) - 'quarantine_id')::text"
                cur.execute(
                    f"SELECT count(*), md5(string_agg({row}, '|' ORDER BY {row})) FROM {table} t"
                )
                count, digest = cur.fetchone()
                prints[table] = {"n": count, "h": digest}
            return prints
    finally:
        raw.close()


# Columns a rerun or another warehouse fills differently by design: a bronze row's load
# time and the ids drawn for rows (uuid v7); every other column must be equal.
VOLATILE_COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = %s AND table_name = %s
  AND (column_name = 'load_time' OR column_default ~ '(gen_random_uuid|uuid_v7)')
"""
# A rejected row's record (JSON) names its bronze row's id.
RECORD_WITHOUT_IDS = (
    "(SELECT coalesce(jsonb_object_agg(k, v), '{}') FROM jsonb_each(t.record) AS e(k, v)"
    " WHERE k !~ '^br_[a-z_]+_id$')"
)


def comparable_fingerprint(
    conn: ConnectionSettings, layers: Sequence[str] = ("bronze", "silver", "gold")
) -> dict[str, tuple]:
    """Rows and a hash of every table of ``layers`` (history included), the volatile
    columns aside: equal for two warehouses loaded from the same sources, whenever and
    however often they ran (a rerun after a crash, transforms side by side, ...)."""
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
                (list(layers),),
            )
            found = {}
            for schema, name in cur.fetchall():
                cur.execute(VOLATILE_COLUMNS, (schema, name))
                dropped = ", ".join(f"'{column}'" for (column,) in cur.fetchall())
                row = f"(to_jsonb(t) - ARRAY[{dropped}]::text[])"
                if name == "quarantine":
                    row += f" || jsonb_build_object('record', {RECORD_WITHOUT_IDS})"
                row = f"({row})::text"
                cur.execute(
                    f"SELECT count(*), md5(string_agg({row}, '|' ORDER BY {row}))"
                    f" FROM {schema}.{name} t"
                )
                found[f"{schema}.{name}"] = cur.fetchone()
            return found
    finally:
        raw.close()

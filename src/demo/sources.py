"""Fill the demo's sources for a range of days: the operational database and the landing
zone, as the generator makes them (the library behind scripts/generate_sources.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from src._base.build.databases import database_exists
from src._base.naming import quote
from src.config import ConnectionSettings, Settings
from src.demo.generator import GeneratedDay, SourceSpec, generate_day
from src.utils.connections import execute_autocommit


def ensure_source_database(conn: ConnectionSettings, name: str) -> ConnectionSettings:
    """The source database on ``conn``'s server, created when missing."""
    if not database_exists(conn, name):
        execute_autocommit(conn, f"CREATE DATABASE {quote(name)}", "postgres")
    return conn.with_database(name)


def generate_days(
    settings: Settings, conn: ConnectionSettings, days: Sequence[date], spec: SourceSpec
) -> list[GeneratedDay]:
    """Generate each day in order (each is independent of the others and idempotent)."""
    source = ensure_source_database(conn, settings.source_database)
    return [generate_day(source, settings.landing_dir, day, spec) for day in days]

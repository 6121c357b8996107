"""Fill the demo's sources for a range of days: the operational database and the landing
zone, as the generator makes them (the library behind scripts/generate_sources.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from src._base.build.databases import ensure_database
from src.config import ConnectionSettings, Settings
from src.demo.generator import GeneratedDay, SourceSpec, generate_day


def generate_days(
    settings: Settings, conn: ConnectionSettings, days: Sequence[date], spec: SourceSpec
) -> list[GeneratedDay]:
    """Generate each day in order (each is independent of the others and idempotent)."""
    ensure_database(conn, settings.source_database)
    source = conn.with_database(settings.source_database)
    return [generate_day(source, settings.landing_dir, day, spec) for day in days]

"""Find loads whose process died: mark them failed and drop the staging tables they left.

    python scripts/clean_loads.py            # every database project
    python scripts/clean_loads.py demo       # one

A load is alive while its process holds its claim (a PostgreSQL advisory lock); a
'running' load whose claim nobody holds is dead. Live loads are listed and left alone.
The next run of a load does the same for itself, so this is for tidying up, not needed
before a rerun. Exit code 0, or 1 when a database cannot be reached.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from src._base.build.databases import database_exists
from src._base.build.discovery import select_projects
from src._base.pipeline.claims import Recovery, recover_dead_loads
from src.config import ConnectionSettings, Settings
from src.utils.cli import run_main
from src.utils.connections import connect_raw, ensure_server

log = logging.getLogger(__name__)

HAS_LOAD_LOG = "SELECT to_regclass('medallion.load_log') IS NOT NULL"


def clean_database(conn: ConnectionSettings) -> Recovery | None:
    """Recover one database; None when it or its load log does not exist (not built)."""
    if not database_exists(conn, conn.database):
        return None
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute("SET application_name = 'medallion clean_loads'")
            cur.execute(HAS_LOAD_LOG)
            (built,) = cur.fetchone()
        raw.commit()
        return recover_dead_loads(raw) if built else None
    finally:
        raw.close()


def describe(database: str, found: Recovery | None) -> list[str]:
    if found is None:
        return [f"{database}: not built yet, nothing to clean"]
    lines = [f"{database}: {job} for {day}: was running, process died; marked failed"
             for job, day in found.failed]  # fmt: skip
    lines += [f"{database}: dropped staging table {table}" for table in found.dropped]
    lines += [f"{database}: still running, left alone: {alive}" for alive in found.alive]
    return lines or [f"{database}: nothing to clean"]


def _body(args: argparse.Namespace, settings: Settings) -> int:
    conn = ensure_server(settings)
    for database in select_projects(settings.src_path, args.database):
        found = clean_database(conn.with_database(database))
        sys.stdout.write("\n".join(describe(database, found)) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", nargs="?", help="database project (default: all)")
    parser.add_argument("--log-level", dest="log_level", default=None)
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

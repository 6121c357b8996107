"""Create tables in foreign-key order, then indexes, history triggers, views and as-of functions.

    python scripts/build_tables.py [engine_type [db_name [log_level [user [host [port]]]]]]
    python scripts/build_tables.py postgres demo INFO postgres localhost 5432

The password comes from PGPASSWORD, DATABASE_URL or a pgpass file, never the command line.
"""

from __future__ import annotations

from collections.abc import Sequence

from src._base.build.cli import build_main
from src._base.build.steps import TABLES


def main(argv: Sequence[str] | None = None) -> int:
    return build_main((TABLES,), argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())

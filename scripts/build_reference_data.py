"""Upsert reference rows from src/<db>/data/<schema>.py, keeping good rows when some are bad.

    python scripts/build_reference_data.py [engine_type [db_name [log_level [user [host [port]]]]]]
    python scripts/build_reference_data.py postgres demo INFO postgres localhost 5432

The password comes from PGPASSWORD, DATABASE_URL or a pgpass file, never the command line.
"""

from __future__ import annotations

from collections.abc import Sequence

from src._base.build.cli import build_main
from src._base.build.steps import REFERENCE_DATA


def main(argv: Sequence[str] | None = None) -> int:
    return build_main((REFERENCE_DATA,), argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())

"""Build every database project (or one): databases, schemas, tables, reference data, checks.

    python scripts/orchestrate_build.py                    # every project
    python scripts/orchestrate_build.py postgres demo      # one database
    python scripts/orchestrate_build.py postgres demo DEBUG
    python scripts/orchestrate_build.py postgres demo --rebuild   # drop and recreate (local)

Runs the same steps as build_databases.py, build_schemas.py, build_tables.py and
build_reference_data.py, in that order, then validates conventions and prints a report.
Exit code 0 on success, 1 on any failure.
"""

from __future__ import annotations

from collections.abc import Sequence

from src._base.build.cli import build_main
from src._base.build.steps import ALL_STEPS


def main(argv: Sequence[str] | None = None) -> int:
    return build_main(ALL_STEPS, argv, description=__doc__.splitlines()[0], allow_rebuild=True)


if __name__ == "__main__":
    raise SystemExit(main())

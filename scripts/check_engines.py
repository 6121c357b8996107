"""Run every transform on both engines (spark, postgres) from the same sources; compare.

    python scripts/check_engines.py demo --date 2026-11-19 --to 2026-11-20

Each engine loads a warehouse of its own (``<db>_check_spark``, ``<db>_check_postgres``,
rebuilt each time) from the configured sources, then every output table of every
transform is compared by key (numbers within one unit at the column's scale). Prints one
row per transform and table. Exit code 0 when every one is equal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

from src._base.engines.equivalence import check_engines, render_matrix
from src._base.pipeline.daily import date_range
from src.config import Settings
from src.utils.cli import run_main
from src.utils.connections import ensure_server
from src.utils.spark import build_spark_session


def _body(args: argparse.Namespace, settings: Settings) -> int:
    conn = ensure_server(settings)
    spark = build_spark_session(settings)
    days = date_range(args.date, args.to)
    comparisons = check_engines(settings, conn, args.database, days, spark)
    sys.stdout.write(render_matrix(comparisons) + "\n")
    return 0 if all(c.equal for c in comparisons) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="database project, e.g. demo")
    parser.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--to", type=date.fromisoformat, help="last date of a range, inclusive")
    parser.add_argument("--log-level", dest="log_level", default=None)
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

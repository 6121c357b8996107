"""Generate the demo's sources for a day or a range: the operational database
(MEDALLION_SOURCE_DATABASE, default demo_source) and Parquet bars (MEDALLION_LANDING_DIR).

    python scripts/generate_sources.py --date 2026-11-20
    python scripts/generate_sources.py --date 2026-11-16 --to 2026-11-20 --trades 100000

Deterministic: the same seed, sizes and date give the same rows, whatever ran before.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date

from src._base.pipeline.daily import date_range
from src.config import Settings
from src.demo.generator import SourceSpec
from src.demo.sources import generate_days
from src.utils.cli import run_main
from src.utils.connections import ensure_server


def _body(args: argparse.Namespace, settings: Settings) -> int:
    spec = SourceSpec(
        seed=args.seed,
        instruments=args.instruments,
        portfolios=args.portfolios,
        trades=args.trades,
    )
    generate_days(settings, ensure_server(settings), date_range(args.date, args.to), spec)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    defaults = SourceSpec()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--to", type=date.fromisoformat, help="last date of a range, inclusive")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--instruments", type=int, default=defaults.instruments)
    parser.add_argument("--portfolios", type=int, default=defaults.portfolios)
    parser.add_argument("--trades", type=int, default=defaults.trades, help="new trades per day")
    parser.add_argument("--log-level", dest="log_level", default=None)
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: what a tenant costs. The demo built and run for one day with 1, 10 and 50
tenants, against the demo without tenants (the baseline, measured in the same run).

    uv run python bench/bench_tenants.py [--tenants 1 10 50] [--trades 150]

On a throw-away embedded server: for each count, a fresh database ``demo`` is built
(every step, tenant roles included) and one day of small sources is run for every
tenant on the postgres engine, tenants one after another as ``run_pipeline.py --tenant
all`` does. Printed: build and run seconds, per tenant, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from datetime import date
from pathlib import Path

import src.demo.demo as demo_marker
from src._base.build.steps import ALL_STEPS, BuildContext, run_steps
from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import run_days, run_tenants
from src.config import SRC_PATH, load_settings
from src.demo.generator import SourceSpec, generate_day
from src.utils.connections import execute_autocommit
from src.utils.embedded_postgres import server_for

DAY = date(2026, 11, 20)
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def measure(conn, tenants: int, settings, folder: Path) -> tuple[float, float]:
    names = tuple(f"t{n:03d}" for n in range(tenants))
    demo_marker.DATABASE = dataclasses.replace(BASE, tenants=names)
    execute_autocommit(conn, "DROP DATABASE IF EXISTS demo WITH (FORCE)")
    context = BuildContext(conn, SRC_PATH, api_passfile=folder / f"pgpass-{tenants}")
    started = time.perf_counter()
    results = run_steps(context, ALL_STEPS, "demo")
    build = time.perf_counter() - started
    if not all(r.ok for r in results):
        raise SystemExit(f"build failed: {[r.failed for r in results if not r.ok]}")
    STEPS[tenants] = {r.step: r.seconds for r in results}
    transforms = load_catalogue(SRC_PATH, "demo").entries
    started = time.perf_counter()
    if names:
        runs = run_tenants(None, settings, conn, "demo", [DAY], transforms, names)
        failed = [r.tenant for r in runs if r.error]
        if failed:
            raise SystemExit(f"tenant runs failed: {failed}")
        for result in (r for run in runs for r in run.results):
            PER_LOAD.setdefault(tenants, {}).setdefault(result.job, []).append(result.seconds)
    else:
        run_days(None, settings, conn, "demo", [DAY], transforms)
    return build, time.perf_counter() - started


PER_LOAD: dict[int, dict[str, list[float]]] = {}  # tenants -> load -> seconds per tenant
STEPS: dict[int, dict[str, float]] = {}  # tenants -> build step -> seconds


BASE = demo_marker.DATABASE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--trades", type=int, default=150)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-tenants-"))
    with server_for(load_settings(None), server_options=FAST) as conn:
        execute_autocommit(conn, "CREATE DATABASE bench_source")
        spec = SourceSpec(trades=args.trades, instruments=8, portfolios=6)
        generate_day(conn.with_database("bench_source"), folder / "landing", DAY, spec)
        settings = load_settings(
            None,
            engine="postgres",
            source_database="bench_source",
            landing_dir=folder / "landing",
            api_passfile=folder / "pgpass",
        )
        base_build, base_run = measure(conn, 0, settings, folder)
        rows = [("no tenants (baseline)", 0, base_build, base_run)]
        for count in args.tenants:
            build, run = measure(conn, count, settings, folder)
            rows.append((f"{count} tenant(s)", count, build, run))
    print(f"demo, one day of {args.trades} trades per tenant, postgres engine")
    print(f"{'':<22} {'build s':>8} {'x base':>7} {'per tenant':>11} "
          f"{'run s':>7} {'x base':>7} {'per tenant':>11}")  # fmt: skip
    for label, count, build, run in rows:
        extra_build = (build - base_build) / count if count else 0.0
        per_run = run / count if count else run
        print(f"{label:<22} {build:>8.2f} {build / base_build:>6.1f}x {extra_build:>10.3f}s "
              f"{run:>7.2f} {run / base_run:>6.1f}x {per_run:>10.2f}s")  # fmt: skip
    print("\nbuild steps, seconds: " + ", ".join(STEPS[0]))
    for count, steps in sorted(STEPS.items()):
        print(f"  {count:>3} tenant(s): " + " ".join(f"{v:6.2f}" for v in steps.values()))
    most = max(PER_LOAD, default=None)
    if most is not None:
        print(f"\nwhere a tenant's day goes ({most} tenants, mean seconds per tenant):")
        for job, seconds in sorted(PER_LOAD[most].items(), key=lambda kv: -sum(kv[1])):
            print(f"  {job:<26} {sum(seconds) / len(seconds):>6.3f}s")


if __name__ == "__main__":
    main()

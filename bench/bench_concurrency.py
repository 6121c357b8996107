"""Benchmark: concurrent single-row updates of a temporal table: throughput and lost versions.

    uv run python bench/bench_concurrency.py [--clients 4] [--seconds 60] [--keys 50] [--repeat 1]

pgbench runs ``UPDATE ... SET name = name || 'x' WHERE key = random(1, keys)`` on
``--clients`` connections for ``--seconds``. Every committed update adds one letter, so
consecutive versions of a key must differ by exactly one letter: a pair that differs by
more is a committed version the history lost. Baseline: the same workload on a plain
table without versioning, measured in the same run. Target: no missing version, and
throughput >= 0.85x of the baseline. Serialization failures (40001) are the documented
answer to a conflict and are counted.

Uses PGHOST/... when set, otherwise a throw-away embedded server (fsync on).
"""

from __future__ import annotations

import argparse
import statistics

from pgbench import PgbenchResult, run_pgbench
from sqlmodel import Field

from src._base.functions.system_time import framework_ddl
from src._base.tables.ddl import render_table
from src._base.tables.table_type_mixins import TemporalTableBase
from src.config import ConnectionSettings, load_settings
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import server_for

DB = "bench_concurrency"
SCRIPT = "\\set id random(1, {keys})\nUPDATE {table} SET name = name || 'x' WHERE item_id = :id;\n"
MISSING_SQL = """SELECT count(*) FILTER (WHERE length(name) <> length(prev) + 1)
FROM (SELECT name, lag(name) OVER (PARTITION BY item_id ORDER BY sys_start) AS prev
      FROM bench.item_hist) v WHERE prev IS NOT NULL"""


class ConcurrencyItemHist(TemporalTableBase, table=True):
    __tablename__ = "item_hist"
    __table_args__ = {"schema": "bench"}
    item_id: int = Field(primary_key=True)
    name: str


def setup(conn: ConnectionSettings, keys: int) -> None:
    """A fresh database: the temporal table and a plain one, ``keys`` rows each."""
    execute_autocommit(conn, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    execute_autocommit(conn, f"CREATE DATABASE {DB}")
    raw = connect_raw(conn, DB)
    with raw.cursor() as cur:
        for statement in [*framework_ddl(), "CREATE SCHEMA bench"]:
            cur.execute(statement)
        for statement in render_table(ConcurrencyItemHist).statements():
            cur.execute(statement)
        cur.execute("CREATE TABLE bench.item_plain (item_id integer PRIMARY KEY, name text)")
        for table in ("bench.item_plain", "bench.item"):
            cur.execute(f"INSERT INTO {table} SELECT g, '' FROM generate_series(1, {keys}) g")
    raw.commit()
    raw.close()


def lost_versions(conn: ConnectionSettings, committed: int) -> tuple[int, int]:
    """(gaps between consecutive versions, letters missing from the current rows)."""
    raw = connect_raw(conn, DB)
    with raw.cursor() as cur:
        cur.execute(MISSING_SQL)
        (gaps,) = cur.fetchone()
        cur.execute("SELECT coalesce(sum(length(name)), 0) FROM bench.item")
        (letters,) = cur.fetchone()
    raw.close()
    return gaps, committed - letters


def measure(conn: ConnectionSettings, args: argparse.Namespace) -> dict[str, list]:
    runs: dict[str, list] = {"baseline": [], "temporal": []}
    for _ in range(args.repeat):
        setup(conn, args.keys)
        for label, table in (("baseline", "bench.item_plain"), ("temporal", "bench.item")):
            script = SCRIPT.format(keys=args.keys, table=table)
            result = run_pgbench(conn, DB, script, clients=args.clients, seconds=args.seconds)
            lost = lost_versions(conn, result.committed) if label == "temporal" else (0, 0)
            runs[label].append((result, lost))
    return runs


def report(runs: dict[str, list], args: argparse.Namespace) -> None:
    print(
        f"\nConcurrent single-row updates: {args.clients} clients, {args.seconds} s, "
        f"{args.keys} keys, {args.repeat} run(s)\n"
    )
    header = f"{'table':<10} {'commits':>9} {'40001':>7} {'40P01':>6} {'missing':>8} {'tps':>9}"
    print(header + f" {'vs baseline':>12}")
    print("-" * (len(header) + 13))
    base_tps = statistics.median(r.tps for r, _ in runs["baseline"])
    for label, samples in runs.items():
        results: list[PgbenchResult] = [r for r, _ in samples]
        missing = sum(max(gaps, letters) for _, (gaps, letters) in samples)
        tps = statistics.median(r.tps for r in results)
        print(
            f"{label:<10} {sum(r.committed for r in results):>9,} "
            f"{sum(r.serialization_failures for r in results):>7,} "
            f"{sum(r.deadlock_failures for r in results):>6,} {missing:>8,} {tps:>9,.0f} "
            f"{tps / base_tps:>11.2f}x"
        )
    print("\nTargets: 0 missing versions; temporal throughput >= 0.85x of the baseline.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    with server_for(load_settings()) as conn:
        runs = measure(conn, args)
        report(runs, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

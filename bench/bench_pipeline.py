"""Benchmark the demo pipeline (issue 5): bronze load, silver history merge, whole day.

    uv run python bench/bench_pipeline.py [--trades 450000] [--rows 1000000] [--repeat 3]

Side by side, in one run, on one server (the configured one or a throw-away embedded one):

1. Bronze: the day's ~1M trade events written into ``bronze.br_trade`` by the fast path
   (COPY from each Spark partition) against ``COPY`` of the same rows from a CSV file into
   the same table. Also shown: the whole ``trade_to_bronze`` transform (JDBC read of the
   source included) and Spark's JDBC writer.
2. Silver: a 1M-row instrument snapshot with 10% changed, 1% new and 1% deleted merged into
   ``silver.instrument_hist`` (history triggers on): the best hand-written SQL merge from a
   staged table against the framework's generated merge from the same table, and against
   the whole ``instrument_to_silver`` transform (bronze read, checks, staging, merge).
3. The whole daily pipeline, bronze -> silver -> gold: (3a) the demo's default day, run
   first, on a new Spark session as ``make demo`` runs it; (3b) ``--trades`` new trades
   (~2.2 events each) and 100 instruments' minute bars, on a fresh warehouse.

Each of (2) and (3) also runs on the postgres engine (the same transforms' SQL inside the
warehouse, no JVM). Targets: (1) and (2) at >= 80% of their baseline's throughput, (2) on
the postgres engine >= 80% of the hand-written merge, (3a) postgres >= 5x faster than
spark, (3b) under 3 minutes on spark and under 60 s on postgres. (4) Gold for day 30 of
history against day 1 of the same size: <= 1.3x.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from src._base.build.steps import build_in_database
from src._base.functions.system_time import REWRITE_SETTING, SET_SYSTEM_TIME
from src._base.pipeline.bronze import with_load_metadata
from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import default_workers, run_transforms
from src._base.pipeline.frames import read_jdbc
from src._base.pipeline.merge import temporal_merge_sql
from src._base.pipeline.report import render_results
from src._base.pipeline.run_config import RunConfig
from src.config import SRC_PATH, ConnectionSettings, Settings, load_settings
from src.demo.generator import SourceSpec, generate_day
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import server_for
from src.utils.spark import build_spark_session, write_copy, write_jdbc

DAY = date(2026, 11, 20)
BRONZE_COLUMNS = (
    "batch_id, logical_date, load_time, source, content_hash, source_event_id, "
    "source_trade_id, portfolio_code, instrument_code, action_code, status_code, quantity, "
    "filled_quantity, price, event_time, effective_time"
)
HIST = "silver.instrument_hist"
SNAPSHOT_COLUMNS = "instrument_code, name, asset_class_type_id, exchange_type_id, currency_type_id"


def sql(conn: ConnectionSettings, *statements: str, autocommit: bool = False) -> None:
    raw = connect_raw(conn)
    raw.autocommit = autocommit
    with raw.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    if not autocommit:
        raw.commit()
    raw.close()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def fresh_databases(server: ConnectionSettings, tag: str) -> tuple[ConnectionSettings, ...]:
    names = (f"bench_{tag}_wh", f"bench_{tag}_src")
    for name in names:
        execute_autocommit(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        execute_autocommit(server, f"CREATE DATABASE {name}")
    warehouse, source = (server.with_database(n) for n in names)
    results = build_in_database(warehouse, SRC_PATH, "demo")
    assert all(r.ok for r in results), [r.failed for r in results]
    return warehouse, source


def config(warehouse: ConnectionSettings, source: ConnectionSettings, landing: Path) -> RunConfig:
    return RunConfig(DAY, warehouse, source, landing)


def median_table(title: str, samples: dict[str, list[float]], rows: int) -> None:
    medians = {name: statistics.median(values) for name, values in samples.items()}
    baseline = next(iter(medians.values()))
    print(f"\n{title}\n")
    print(f"{'case':<58} {'time':>8} {'rows/s':>11} {'vs baseline':>12}  runs")
    print("-" * 100)
    for name, seconds in medians.items():
        runs = " ".join(f"{s:.1f}" for s in samples[name])
        print(
            f"{name:<58} {seconds:>7.2f}s {rows / seconds:>11,.0f} {baseline / seconds:>11.0%}"
            f"  {runs}"
        )


# ---------------------------------------------------------------- 1. bronze write


def bench_bronze(spark, server, landing: Path, trades: int, repeat: int) -> None:
    warehouse, source = fresh_databases(server, "bronze")
    generate_day(source, landing, DAY, SourceSpec(instruments=100, portfolios=50, trades=trades))
    cfg = config(warehouse, source, landing)
    [transform] = load_catalogue(SRC_PATH, "demo").select(names=["trade_to_bronze"])
    events = read_jdbc(spark, source, "(SELECT * FROM ops.trade_event) q", partitions=2,
                       partition_sql="row_id")  # fmt: skip
    # Its own view name: the transform replaces its view "source", which would uncache
    # every frame built on it (and time a recomputation instead of a write).
    events.createOrReplaceTempView("bench_trade_event")
    from src.demo.transforms.bronze.trade_to_bronze import LANDED

    assert "FROM source\n" in LANDED, "the transform's SQL changed: update this benchmark"
    landed_sql = LANDED.replace("FROM source\n", "FROM bench_trade_event\n")
    landed = spark.sql(landed_sql.format(day_start=f"{DAY} 00:00:00"))
    rows = with_load_metadata(cfg, "bench", landed, "bench").select(
        *[c.strip() for c in BRONZE_COLUMNS.split(",")]
    ).cache()  # fmt: skip
    count = rows.count()
    with tempfile.TemporaryDirectory() as folder:
        csv_file = f"{folder}/rows.csv"
        raw = connect_raw(warehouse)
        with raw.cursor() as cur:
            write_copy(rows, warehouse, "bronze.br_trade")
            with open(csv_file, "w", encoding="utf-8") as handle:
                cur.copy_expert(
                    f"COPY bronze.br_trade ({BRONZE_COLUMNS}) TO STDOUT WITH (FORMAT csv)", handle
                )
        raw.close()

        def copy_csv() -> None:
            raw = connect_raw(warehouse)
            with raw.cursor() as cur, open(csv_file, encoding="utf-8") as handle:
                cur.copy_expert(
                    f"COPY bronze.br_trade ({BRONZE_COLUMNS}) FROM STDIN WITH (FORMAT csv)", handle
                )
            raw.commit()
            raw.close()

        def whole_transform() -> None:
            sql(warehouse, "DELETE FROM medallion.load_log")
            [result] = run_transforms(spark, cfg, [transform])
            assert result.rows_written == count, result

        cases = {
            "COPY of a CSV file of the same rows (baseline)": copy_csv,
            "fast path: write_copy (COPY per Spark partition)": lambda: write_copy(
                rows, warehouse, "bronze.br_trade"
            ),
            "trade_to_bronze transform (JDBC read + fast path)": whole_transform,
            "fallback: Spark's JDBC writer": lambda: write_jdbc(rows, warehouse, "bronze.br_trade"),
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(repeat):
            for name, action in cases.items():
                sql(warehouse, "TRUNCATE bronze.br_trade", "CHECKPOINT", autocommit=True)
                samples[name].append(timed(action))
    rows.unpersist()
    median_table(f"1. Bronze: {count:,} trade events into bronze.br_trade (indexed), median of "
                 f"{repeat}", samples, count)  # fmt: skip


# ---------------------------------------------------------------- 2. silver merge

# The best hand-written merge: skip unchanged rows up front, one statement per kind.
HAND_WRITTEN = (
    """UPDATE silver.instrument_hist h
       SET name = s.name, asset_class_type_id = s.asset_class_type_id,
           exchange_type_id = s.exchange_type_id, currency_type_id = s.currency_type_id
       FROM stage s
       WHERE h.instrument_code = s.instrument_code AND h.sys_end = 'infinity' AND s.is_valid
         AND (h.name, h.asset_class_type_id, h.exchange_type_id, h.currency_type_id)
             IS DISTINCT FROM (s.name, s.asset_class_type_id, s.exchange_type_id,
                               s.currency_type_id)""",
    """INSERT INTO silver.instrument_hist (instrument_code, name, asset_class_type_id,
                                          exchange_type_id, currency_type_id)
       SELECT s.instrument_code, s.name, s.asset_class_type_id, s.exchange_type_id,
              s.currency_type_id
       FROM stage s
       WHERE s.is_valid AND NOT EXISTS (SELECT 1 FROM silver.instrument_hist h
             WHERE h.instrument_code = s.instrument_code AND h.sys_end = 'infinity')""",
    """DELETE FROM silver.instrument_hist h
       WHERE h.sys_end = 'infinity' AND NOT EXISTS
             (SELECT 1 FROM stage s WHERE s.instrument_code = h.instrument_code)""",
)

SNAPSHOT_1 = """SELECT 'I' || lpad(g::text, 7, '0'), 'Instrument ' || g, 1 + g % 4, 1 + g % 4,
    1 + g % 4, true FROM generate_series(1, {rows}) g"""
# 10% renamed, 1% deleted (g % 100 = 1), 1% new (ids above rows)
SNAPSHOT_2 = """SELECT 'I' || lpad(g::text, 7, '0'),
    CASE WHEN g % 10 = 0 THEN 'Renamed ' || g ELSE 'Instrument ' || g END,
    1 + g % 4, 1 + g % 4, 1 + g % 4, true
    FROM generate_series(1, {rows} + {rows} / 100) g WHERE g % 100 <> 1"""


def reset_history(conn: ConnectionSettings, rows: int, first: RunConfig) -> None:
    """The state after day one: ``rows`` current versions starting at day one's time."""
    t1 = (first.system_time - timedelta(days=1)).isoformat()
    sql(
        conn,
        f"SET {REWRITE_SETTING} = on",
        f"TRUNCATE {HIST} CASCADE",
        f"SELECT {SET_SYSTEM_TIME}('{t1}')",
        f"INSERT INTO {HIST} ({SNAPSHOT_COLUMNS}) SELECT i, n, a, e, c FROM ("
        + SNAPSHOT_1.format(rows=rows)
        + ") AS s(i, n, a, e, c, v)",
    )
    sql(conn, f"VACUUM ANALYZE {HIST}", "CHECKPOINT", autocommit=True)


def current_versions(conn: ConnectionSettings, table: str = HIST) -> int:
    where = "sys_end = 'infinity'" if table == HIST else "true"
    raw = connect_raw(conn)
    with raw.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table} WHERE {where}")
        (count,) = cur.fetchone()
    raw.close()
    return count


def merge_from_stage(conn: ConnectionSettings, statements, at: str) -> None:
    sql(conn, f"SELECT {SET_SYSTEM_TIME}('{at}')", *statements)


def bench_silver(spark, server, landing: Path, rows: int, repeat: int) -> None:
    """Without ``spark`` (``--engine postgres``), the Spark transform is left out."""
    warehouse, source = fresh_databases(server, "silver")
    cfg = config(warehouse, source, landing)
    at = cfg.system_time.isoformat()
    sql(
        warehouse,
        "CREATE TABLE stage (instrument_code text, name text, asset_class_type_id int,"
        " exchange_type_id int, currency_type_id int, is_valid boolean)",
        "INSERT INTO stage " + SNAPSHOT_2.format(rows=rows),
        "ANALYZE stage",
    )
    # bronze holds the same snapshot as codes, for the whole transform
    batch = cfg.batch_id("instrument_to_bronze")
    sql(
        warehouse,
        "INSERT INTO bronze.br_instrument (batch_id, logical_date, load_time, source,"
        " content_hash, instrument_code, name, asset_class_code, exchange_mic, currency_code,"
        " effective_time)"
        f" SELECT '{batch}', '{DAY}', now(), 'bench', md5(s.instrument_code || s.name),"
        " s.instrument_code, s.name, a.code, e.mic, c.iso_code, now() FROM stage s"
        " JOIN common.asset_class_type a USING (asset_class_type_id)"
        " JOIN common.exchange_type e USING (exchange_type_id)"
        " JOIN common.currency_type c USING (currency_type_id)",
        "INSERT INTO medallion.load_log (job, logical_date, batch_id, status)"
        f" VALUES ('instrument_to_bronze', '{DAY}', '{batch}', 'succeeded')",
    )
    [transform] = load_catalogue(SRC_PATH, "demo").select(names=["instrument_to_silver"])
    wanted = current_versions(warehouse, "stage")
    generated = temporal_merge_sql(
        HIST, ("instrument_code",), [c.strip() for c in SNAPSHOT_COLUMNS.split(",")][1:], "stage",
        valid="is_valid",
    )  # fmt: skip
    cases = {
        "hand-written SQL merge from a staged table (baseline)": lambda: merge_from_stage(
            warehouse, HAND_WRITTEN, at
        ),
        "framework merge (temporal_merge_sql), same staged table": lambda: merge_from_stage(
            warehouse, generated, at
        ),
        "instrument_to_silver transform (read, check, stage, merge)": lambda: run_transforms(
            spark, cfg, [transform]
        ),
        "instrument_to_silver transform, postgres engine": lambda: run_transforms(
            None, replace(cfg, engine="postgres"), [transform]
        ),
    }
    if spark is None:
        del cases["instrument_to_silver transform (read, check, stage, merge)"]
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, action in cases.items():
            reset_history(warehouse, rows, cfg)
            samples[name].append(timed(action))
            assert current_versions(warehouse) == wanted, name
    median_table(f"2. Silver: {rows:,}-row snapshot, 10% changed, 1% new, 1% deleted, into "
                 f"{HIST} (history triggers on), median of {repeat}", samples, rows)  # fmt: skip


# ---------------------------------------------------------------- 3. whole day


def bench_day(spark, server, landing: Path, spec: SourceSpec, title: str) -> None:
    """The whole day on each engine, each into a fresh warehouse from the same sources
    (the postgres engine alone without ``spark``)."""
    source = fresh_databases(server, "day")[1]
    generated = generate_day(source, landing, DAY, spec)
    print(
        f"\n{title}: {generated.trade_events:,} trade events ({spec.trades:,} new trades), "
        f"{generated.bars:,} minute bars of {generated.bar_files} instruments (sources "
        f"generated in {generated.seconds:.1f}s)\n"
    )
    seconds = {}
    import src._base.engines.postgres  # noqa: F401 - warm, as Spark's session is: not timed

    for engine in ("spark", "postgres") if spark else ("postgres",):
        warehouse = fresh_databases(server, f"day_{engine}")[0]
        cfg = replace(config(warehouse, source, landing), engine=engine)
        started = time.perf_counter()
        entries = load_catalogue(SRC_PATH, "demo").entries
        workers = default_workers(engine)
        results = run_transforms(spark if engine == "spark" else None, cfg, entries,
                                 workers=workers)  # fmt: skip
        seconds[engine] = time.perf_counter() - started
        print(f"{engine} engine:\n{render_results(results)}\n")
    if not spark:
        print(f"bronze -> silver -> gold: postgres {seconds['postgres']:.1f}s "
              f"({default_workers('postgres')} workers)")  # fmt: skip
        return
    ratio = seconds["spark"] / seconds["postgres"]
    print(f"bronze -> silver -> gold: spark {seconds['spark']:.1f}s (session already started), "
          f"postgres {seconds['postgres']:.1f}s ({default_workers('postgres')} workers, modules "
          f"already imported): postgres {ratio:.1f}x faster")  # fmt: skip


def bench_gold_growth(server, landing: Path, days: int) -> None:
    """Gold's cost as history grows: day ``days`` against day 1, the same size each day
    (the demo's default day), on the postgres engine."""
    warehouse, source = fresh_databases(server, "growth")
    entries = load_catalogue(SRC_PATH, "demo").entries
    gold = [e for e in entries if e.layer == "gold"]
    seconds: dict[int, float] = {}
    first = DAY - timedelta(days=days - 1)
    for n in range(days):
        day = first + timedelta(days=n)
        generate_day(source, landing, day, SourceSpec())
        cfg = replace(RunConfig(day, warehouse, source, landing), engine="postgres")
        run_transforms(None, cfg, [e for e in entries if e.layer != "gold"])
        started = time.perf_counter()
        run_transforms(None, cfg, gold)
        seconds[n + 1] = time.perf_counter() - started
    # one day is a fraction of a second: compare the first and last five days' medians
    first_days = statistics.median(seconds[n] for n in range(1, 6))
    last_days = statistics.median(seconds[n] for n in range(days - 4, days + 1))
    print(f"\n4. Gold as history grows (postgres engine, the demo's default day each day): "
          f"day 1 {seconds[1]:.2f}s, day {days} {seconds[days]:.2f}s; median of days 1-5 "
          f"{first_days:.2f}s, of days {days - 4}-{days} {last_days:.2f}s: "
          f"{last_days / first_days:.2f}x (target <= 1.3x)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=450_000, help="new trades per day")
    parser.add_argument("--rows", type=int, default=1_000_000, help="silver snapshot rows")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only", choices=("bronze", "silver", "demo-day", "day", "gold-growth"), action="append"
    )
    parser.add_argument("--days", type=int, default=30, help="days of history for gold-growth")
    parser.add_argument(
        "--engine",
        choices=("both", "postgres"),
        default="both",
        help="postgres: no Spark session, and only the parts and cases that run without it",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="time every step and published statement"
    )
    args = parser.parse_args(argv)
    # one line per transform, with where its time went (staging, publishing)
    logging.basicConfig(format="    %(message)s")
    logging.getLogger("src._base.pipeline.daily").setLevel(logging.INFO)
    if args.verbose:
        for name in ("src._base.engines.postgres", "src._base.pipeline.publish"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    settings: Settings = load_settings()
    parts = args.only or ["bronze", "silver", "demo-day", "day", "gold-growth"]
    with server_for(settings) as server:
        spark = build_spark_session(settings) if args.engine == "both" else None
        with tempfile.TemporaryDirectory() as folder:
            landing = Path(folder)
            # The demo's day first, on a new Spark session as `make demo` runs it: after
            # the million-row parts Spark's JIT is warm and the same day took 22 s, not 35 s
            # (postgres 5 s either way).
            if "demo-day" in parts:
                bench_day(spark, server, landing, SourceSpec(), "3a. The demo's default day")
            if "bronze" in parts and spark:
                bench_bronze(spark, server, landing, args.trades, args.repeat)
            if "silver" in parts:
                bench_silver(spark, server, landing, args.rows, args.repeat)
            if "day" in parts:
                spec = SourceSpec(instruments=100, portfolios=50, trades=args.trades)
                bench_day(spark, server, landing, spec, "3b. The whole daily pipeline")
            if "gold-growth" in parts:
                bench_gold_growth(server, landing, args.days)
        if spark:
            spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

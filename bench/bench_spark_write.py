"""Benchmark: writing a Spark DataFrame into PostgreSQL, against plain COPY of the same rows.

    uv run python bench/bench_spark_write.py [--rows 1000000] [--repeat 3]

Rows look like bronze trade events (ids, codes, decimals, timestamps, a hash) and go into
the same indexed table each time (truncated in between, CHECKPOINT before each timing).

* COPY (baseline): ``COPY ... FROM STDIN`` of a CSV file of the same rows, written
  beforehand: the database's own load speed with no Spark in the loop.
* ``write_copy``: the fast path (Spark computes the rows, each partition streams COPY).
* ``write_jdbc``: Spark's JDBC writer (batched INSERTs), the fallback.

Target (issue 5): the fast path at >= 80% of COPY's throughput.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from src.config import ConnectionSettings, Settings, load_settings
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import server_for
from src.utils.spark import build_spark_session, write_copy, write_jdbc

DB = "bench_spark_write"
TABLE = "bench.br_trade"
DDL = f"""CREATE TABLE {TABLE} (
    br_trade_id bigint PRIMARY KEY, source_trade_id text NOT NULL, portfolio_code text,
    instrument_code text, quantity numeric(18, 4), price numeric(18, 6),
    event_time timestamptz, logical_date date, source text, content_hash text)"""
COLUMNS = (
    "br_trade_id, source_trade_id, portfolio_code, instrument_code, quantity, price, "
    "event_time, logical_date, source, content_hash"
)
ROWS_SQL = """SELECT id AS br_trade_id,
    concat('T', id) AS source_trade_id,
    concat('P', id % 50) AS portfolio_code,
    concat('I', id % 100) AS instrument_code,
    CAST((id % 1000) + 0.25 AS DECIMAL(18, 4)) AS quantity,
    CAST(100 + (id % 5000) / 7.0 AS DECIMAL(18, 6)) AS price,
    timestamp_seconds(1763640000 + id % 86400) AS event_time,
    DATE'2026-11-20' AS logical_date,
    'demo_source' AS source,
    sha2(CAST(id AS STRING), 256) AS content_hash
FROM range({rows})"""


def reset(conn: ConnectionSettings) -> None:
    raw = connect_raw(conn, DB)
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute(f"TRUNCATE {TABLE}")
        cur.execute("CHECKPOINT")
    raw.close()


def copy_file(conn: ConnectionSettings, path: str) -> None:
    raw = connect_raw(conn, DB)
    with raw.cursor() as cur, open(path, encoding="utf-8") as handle:
        cur.copy_expert(f"COPY {TABLE} ({COLUMNS}) FROM STDIN WITH (FORMAT csv)", handle)
    raw.commit()
    raw.close()


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    settings = load_settings()
    with server_for(settings) as conn:
        run(settings, conn, args.rows, args.repeat)
    return 0


def run(settings: Settings, conn: ConnectionSettings, rows: int, repeat: int) -> None:
    spark = build_spark_session(settings)
    try:
        execute_autocommit(conn, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        execute_autocommit(conn, f"CREATE DATABASE {DB}")
        db = conn.with_database(DB)
        raw = connect_raw(db)
        with raw.cursor() as cur:
            cur.execute("CREATE SCHEMA bench")
            cur.execute(DDL)
            cur.execute(f"CREATE INDEX ON {TABLE} (logical_date, portfolio_code)")
        raw.commit()
        raw.close()
        df = spark.sql(ROWS_SQL.format(rows=rows)).repartition(2).cache()
        df.count()  # materialise once: every writer starts from the same cached rows
        with tempfile.TemporaryDirectory() as folder:
            df.coalesce(1).write.mode("overwrite").csv(folder + "/rows")
            [csv_file] = [str(p) for p in Path(folder, "rows").glob("part-*.csv")]
            cases = {
                "COPY of a CSV file (baseline)": lambda: copy_file(db, csv_file),
                "write_copy (fast path)": lambda: write_copy(df, db, TABLE),
                "write_jdbc (fallback)": lambda: write_jdbc(df, db, TABLE),
            }
            samples: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(repeat):
                for name, action in cases.items():
                    reset(db)
                    samples[name].append(timed(action))
        report(samples, rows, repeat)
    finally:
        spark.stop()


def report(samples: dict[str, list[float]], rows: int, repeat: int) -> None:
    medians = {name: statistics.median(values) for name, values in samples.items()}
    baseline = medians["COPY of a CSV file (baseline)"]
    print(f"\nWriting {rows:,} rows into an indexed table, median of {repeat} run(s)\n")
    print(f"{'writer':<32} {'time':>9} {'rows/s':>12} {'vs COPY':>9}")
    print("-" * 65)
    for name, seconds in medians.items():
        print(f"{name:<32} {seconds:>8.2f}s {rows / seconds:>12,.0f} {baseline / seconds:>8.0%}")
    print("\nTarget: the fast path at >= 80% of COPY's throughput.")


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: system versioning overhead against the same table without versioning.

    uv run python bench/bench_temporal.py [--rows 1000000] [--repeat 3] [--pgbench-tx 20000]

Each case loads ``--rows`` rows into a fresh table (VACUUM ANALYZE, CHECKPOINT), then
times one operation. Baseline: a plain table with the same columns and the business key as
primary key, no triggers. Versioned: the framework's temporal table, written through its
current-state view (the user-facing path) and directly on ``*_hist``.

Operations: (a) one bulk UPDATE of 10% of rows, (b) single-row UPDATE transactions from
pgbench (2 clients), (c) one bulk DELETE of 5% of rows. Targets: bulk UPDATE <= 1.3x,
single-row UPDATE throughput >= 0.85x of the baseline.

Uses PGHOST/... when set, otherwise a throw-away embedded server (fsync off for both).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Numeric
from sqlmodel import Field

from src._base.functions.system_time import framework_ddl
from src._base.tables.ddl import render_table
from src._base.tables.table_type_mixins import TemporalTableBase
from src.config import ConnectionSettings, load_settings, resolve_connection
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import EmbeddedPostgres, find_pg_binaries, free_port

DB = "bench_temporal"
PAYLOAD = (
    "name varchar NOT NULL, price numeric(18,4) NOT NULL, qty integer NOT NULL, updated_by varchar"
)


class BenchItemHist(TemporalTableBase, table=True):
    __tablename__ = "item_hist"
    __table_args__ = {"schema": "bench"}
    item_id: int = Field(primary_key=True)
    name: str
    price: Decimal = Field(sa_type=Numeric(18, 4))
    qty: int
    updated_by: str | None = None


BASELINE = f"CREATE TABLE bench.item_plain (item_id integer PRIMARY KEY, {PAYLOAD})"
FILL = (
    "INSERT INTO {table} (item_id, name, price, qty, updated_by) "
    "SELECT g, 'item ' || g, (g % 1000) + 0.5, g % 97, 'load' FROM generate_series(1, {rows}) g"
)
OPERATIONS = {
    "bulk UPDATE 10%": "UPDATE {target} SET price = price + 1, updated_by = 'bulk' "
    "WHERE item_id % 10 = 0",
    "bulk DELETE 5%": "DELETE FROM {target} WHERE item_id % 20 = 0",
}
TARGETS = {
    "baseline (no versioning)": ("bench.item_plain", "bench.item_plain"),
    "versioned, through the view": ("bench.item_hist", "bench.item"),
    "versioned, on *_hist": ("bench.item_hist", "bench.item_hist WHERE sys_end = 'infinity' AND"),
}


def _sql_for(op: str, target: str) -> str:
    sql = OPERATIONS[op]
    if " AND" in target:  # direct on *_hist: only current rows
        table, condition = target.split(" WHERE ")
        return sql.format(target=table).replace("WHERE ", f"WHERE {condition} ", 1)
    return sql.format(target=target)


def setup_database(conn: ConnectionSettings) -> None:
    execute_autocommit(conn, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    execute_autocommit(conn, f"CREATE DATABASE {DB}")
    raw = connect_raw(conn, DB)
    with raw.cursor() as cur:
        for statement in [*framework_ddl(), "CREATE SCHEMA bench", BASELINE]:
            cur.execute(statement)
        for statement in render_table(BenchItemHist).statements():
            cur.execute(statement)
    raw.commit()
    raw.close()


def reload(conn: ConnectionSettings, table: str, rows: int) -> None:
    raw = connect_raw(conn, DB)
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute("SET medallion.allow_history_rewrite = on")
        cur.execute(f"TRUNCATE {table}")
        cur.execute("RESET medallion.allow_history_rewrite")
        cur.execute(FILL.format(table=table, rows=rows))
        cur.execute(f"VACUUM ANALYZE {table}")
        cur.execute("CHECKPOINT")
    raw.close()


def timed(conn: ConnectionSettings, sql: str) -> float:
    raw = connect_raw(conn, DB)
    with raw.cursor() as cur:
        started = time.perf_counter()
        cur.execute(sql)
        raw.commit()
        elapsed = time.perf_counter() - started
    raw.close()
    return elapsed


def pgbench_tps(conn: ConnectionSettings, target: str, rows: int, transactions: int) -> float:
    pgbench = find_pg_binaries().bindir / "pgbench"
    script = (
        f"\\set id random(1, {rows})\n"
        f"UPDATE {target} SET price = price + 1, updated_by = 'pgbench' WHERE item_id = :id;\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    Path(handle.name).chmod(0o644)
    env = {**os.environ, "PGPASSWORD": conn.password.get_secret_value() if conn.password else ""}
    per_client = transactions // 2
    cmd = [str(pgbench), "-n", "-c", "2", "-j", "2", "-t", str(per_client), "-f", handle.name]
    cmd += ["-h", conn.host, "-p", str(conn.port), "-U", conn.user, DB]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    Path(handle.name).unlink()
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    return float(match.group(1)) if match else float("nan")


def measure(conn: ConnectionSettings, rows: int, repeat: int, transactions: int) -> list[tuple]:
    results = []
    for op in OPERATIONS:
        for label, (table, target) in TARGETS.items():
            samples = []
            for _ in range(repeat):
                reload(conn, table, rows)
                samples.append(timed(conn, _sql_for(op, target)))
            results.append((op, label, statistics.median(samples), "s"))
    for label, (table, target) in TARGETS.items():
        if " AND" in target:
            continue
        reload(conn, table, rows)
        results.append(
            (
                "single-row UPDATE (pgbench)",
                label,
                pgbench_tps(conn, target, rows, transactions),
                "tps",
            )
        )
    return results


def report(results: list[tuple], rows: int) -> None:
    baseline = {op: value for op, label, value, _ in results if label.startswith("baseline")}
    print(f"\nSystem versioning overhead, {rows:,} rows (median of runs)\n")
    print(f"{'operation':<30} {'table':<30} {'result':>12} {'vs baseline':>12}")
    print("-" * 88)
    for op, label, value, unit in results:
        ratio = value / baseline[op]
        shown = f"{value:.3f} s" if unit == "s" else f"{value:,.0f} tps"
        note = f"{ratio:.2f}x time" if unit == "s" else f"{ratio:.2f}x tps"
        print(f"{op:<30} {label:<30} {shown:>12} {note:>12}")
    print("\nTargets: bulk UPDATE <= 1.30x time; single-row UPDATE >= 0.85x tps.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pgbench-tx", type=int, default=20_000)
    args = parser.parse_args(argv)
    settings = load_settings()
    server = None
    if settings.uses_embedded_server:
        home = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        options = {"fsync": "off", "synchronous_commit": "off", "max_wal_size": "4GB"}
        server = EmbeddedPostgres(home=home, port=free_port(), server_options=options)
        conn = server.start()
    else:
        conn = resolve_connection(settings)
    try:
        setup_database(conn)
        report(measure(conn, args.rows, args.repeat, args.pgbench_tx), args.rows)
    finally:
        if server is not None:
            server.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

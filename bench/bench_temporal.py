"""Benchmark: system versioning overhead against the same table without versioning.

    uv run python bench/bench_temporal.py [--rows 1000000] [--repeat 3] [--pgbench-tx 20000]
        [--only single-row]

Each case loads ``--rows`` rows into a fresh table (VACUUM ANALYZE, CHECKPOINT), then
times one operation. Baseline: a plain table with the same columns and the business key as
primary key, no triggers. Versioned: the framework's temporal table, written through its
current-state view (the user-facing path) and directly on ``*_hist``. The partitioned
layout is measured twice: as a superuser's build makes it (updated rows stamped by the
server's C ``moddatetime``) and as any other role's build does (stamped in PL/pgSQL).
For bulk UPDATE and DELETE, the same layout's writes done by hand with its triggers
disabled give the floor no trigger design on that layout can go below.

Operations: (0) loading all rows into the empty table (always into the table itself),
(a) one bulk UPDATE of 10% of rows, also at a system time set as the silver and gold loads
set it (``set_system_time``: the stamp is then PL/pgSQL whatever the build), (b) one bulk
DELETE of 5% of rows, (c) single-row
UPDATE transactions from pgbench (2 clients), (d) as-of reads of a key with 100 versions
(pgbench; its baseline is the default layout, since plain tables have no history). The
pgbench cases load every table once, then run the cases in turns, several short rounds,
so that each is compared with a baseline measured seconds apart.
Targets: bulk UPDATE <= 1.5x, bulk DELETE <= 2x, single-row UPDATE throughput >= 0.9x of
the baseline; as-of reads no slower than the default layout.

Uses PGHOST/... when set, otherwise a throw-away embedded server (fsync on, like
production; a CHECKPOINT before each timed statement).

The reference: when the server has the ``temporal_tables`` C extension (PGXN, 1.2.2),
it is measured in the same run. It is not packaged for Debian; to build it:
``apt-get install postgresql-server-dev-15``, then in its source folder (PGXN or its
public repository) ``make PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config install``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

from pgbench import run_pgbench
from sqlalchemy import Numeric
from sqlmodel import Field

from src._base.functions.system_time import (
    STAMP_VERSION_AT,
    SYSTEM_TIME_UNSET,
    framework_ddl,
)
from src._base.functions.temporal import REWRITE_OFF
from src._base.tables.ddl import render_table
from src._base.tables.table_type_mixins import TemporalTableBase
from src.config import ConnectionSettings, load_settings
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import server_for

DB = "bench_temporal"
PAYLOAD = (
    "name varchar NOT NULL, price numeric(18,4) NOT NULL, qty integer NOT NULL, updated_by varchar"
)


class BenchItemHist(TemporalTableBase, table=True):
    """The default: primary key (item_id, sys_start), heap fillfactor 100."""

    __tablename__ = "item_hist"
    __table_args__ = {"schema": "bench"}
    item_id: int = Field(primary_key=True)
    name: str
    price: Decimal = Field(sa_type=Numeric(18, 4))
    qty: int
    updated_by: str | None = None


class BenchItemHotHist(TemporalTableBase, table=True):
    """The write-optimised option: primary key (item_id, sys_end), fillfactor 90."""

    __tablename__ = "item_hot_hist"
    __temporal_key__ = "sys_end"
    __table_args__ = {"schema": "bench", "postgresql_with": {"fillfactor": 90}}
    item_id: int = Field(primary_key=True)
    name: str
    price: Decimal = Field(sa_type=Numeric(18, 4))
    qty: int
    updated_by: str | None = None


class BenchItemPartHist(TemporalTableBase, table=True):
    """The partitioned layout: current rows and closed versions in two partitions."""

    __tablename__ = "item_part_hist"
    __history_layout__ = "partitioned"
    __table_args__ = {"schema": "bench"}
    item_id: int = Field(primary_key=True)
    name: str
    price: Decimal = Field(sa_type=Numeric(18, 4))
    qty: int
    updated_by: str | None = None


class BenchItemPartPlHist(TemporalTableBase, table=True):
    """The partitioned layout as a build by a role that is no superuser makes it: updated
    rows stamped in PL/pgSQL instead of the server's C ``moddatetime``."""

    __tablename__ = "item_part_pl_hist"
    __history_layout__ = "partitioned"
    __table_args__ = {"schema": "bench"}
    item_id: int = Field(primary_key=True)
    name: str
    price: Decimal = Field(sa_type=Numeric(18, 4))
    qty: int
    updated_by: str | None = None


# The PL/pgSQL stamp: the same trigger calling the PL/pgSQL function (equal when no time
# is set, as here); stamp_version() itself is C for every table of a superuser's build.
PLPGSQL_STAMP = [
    "DROP TRIGGER versioning_c_stamp ON bench.item_part_pl_hist",
    "CREATE TRIGGER versioning_c_stamp BEFORE UPDATE ON bench.item_part_pl_hist "
    f"FOR EACH ROW WHEN ({REWRITE_OFF} AND {SYSTEM_TIME_UNSET}) "
    f"EXECUTE FUNCTION {STAMP_VERSION_AT}()",
]


BASELINES = [
    f"CREATE TABLE bench.item_plain (item_id integer PRIMARY KEY, {PAYLOAD})",
    f"CREATE TABLE bench.item_hot_plain (item_id integer PRIMARY KEY, {PAYLOAD}) "
    "WITH (fillfactor = 90)",
]
FILL = (
    "INSERT INTO {table} (item_id, name, price, qty, updated_by) "
    "SELECT g, 'item ' || g, (g % 1000) + 0.5, g % 97, 'load' FROM generate_series(1, {rows}) g"
)
OPERATIONS = {
    "bulk INSERT (load all rows)": "",  # timed load into the empty table
    "bulk UPDATE 10%": "UPDATE {target} SET price = price + 1, updated_by = 'bulk' "
    "WHERE {current}item_id % 10 = 0",
    # As the silver and gold loads run: at a system time they set (a replay's path).
    "bulk UPDATE 10%, time set": "SELECT medallion.set_system_time(now()); "
    "UPDATE {target} SET price = price + 1, updated_by = 'bulk' WHERE {current}item_id % 10 = 0",
    "bulk DELETE 5%": "DELETE FROM {target} WHERE {current}item_id % 20 = 0",
    "single-row UPDATE (pgbench)": "UPDATE {target} SET price = price + 1, "
    "updated_by = 'pgbench' WHERE {current}item_id = :id",
}
# Key 1 gets 100 versions, one a second from 2000-01-01; each read is as of a random one.
AS_OF_OP = "as-of, 100 versions"
AS_OF = (
    "SELECT * FROM {function}(timestamptz '2000-01-01' + :id % 100 * interval '1 second'"
    " + interval '0.5 second') WHERE item_id = 1"
)
AS_OF_CASES = [  # (label, table, as-of function); the baseline: today's default layout
    ("key+sys_start (default)", "bench.item_hist", "bench.item__as_of"),
    ("key+sys_end ff90", "bench.item_hot_hist", "bench.item_hot__as_of"),
    ("partitioned", "bench.item_part_hist", "bench.item_part__as_of"),
]
VERSIONS = 100
CURRENT = "sys_end = 'infinity' AND "
BASE100, BASE90 = "baseline, fillfactor 100", "baseline, fillfactor 90"
# (label, table to load, table or view to write, WHERE prefix, its baseline)
CASES = [
    (BASE100, "bench.item_plain", "bench.item_plain", "", None),
    ("key+sys_start, via view", "bench.item_hist", "bench.item", "", BASE100),
    ("key+sys_start, on _hist", "bench.item_hist", "bench.item_hist", CURRENT, BASE100),
    (BASE90, "bench.item_hot_plain", "bench.item_hot_plain", "", None),
    ("key+sys_end ff90, via view", "bench.item_hot_hist", "bench.item_hot", "", BASE90),
    ("partitioned, via view", "bench.item_part_hist", "bench.item_part", "", BASE100),
    ("partitioned, PL/pgSQL stamp", "bench.item_part_pl_hist", "bench.item_part_pl", "", BASE100),
]


# The floor: the partitioned layout's own writes done by hand, with its triggers disabled
# (the closed versions copied, then the current rows changed in their partition). No
# trigger design on this layout can do less; the gap to it is what the triggers cost.
FLOOR = "partitioned, by hand (floor)"
FLOOR_COLUMNS = "item_id, name, price, qty, updated_by, sys_start"
FLOOR_SQL = {
    "bulk UPDATE 10%": (
        f"INSERT INTO bench.item_part_hist_closed ({FLOOR_COLUMNS}, sys_end) "
        f"SELECT {FLOOR_COLUMNS}, now() FROM bench.item_part_hist_current "
        "WHERE item_id % 10 = 0; "
        "UPDATE bench.item_part_hist_current SET price = price + 1, updated_by = 'bulk', "
        "sys_start = now() WHERE item_id % 10 = 0"
    ),
    "bulk DELETE 5%": (
        f"INSERT INTO bench.item_part_hist_closed ({FLOOR_COLUMNS}, sys_end) "
        f"SELECT {FLOOR_COLUMNS}, now() FROM bench.item_part_hist_current "
        "WHERE item_id % 20 = 0; "
        "DELETE FROM bench.item_part_hist_current WHERE item_id % 20 = 0"
    ),
}
FLOOR_CASE = (FLOOR, "bench.item_part_hist", "", "", BASE100)


# The reference: the temporal_tables C extension (PGXN, 1.2.2), when the server has it.
# Current rows in the table, closed versions in an unindexed history table, a row trigger.
EXTENSION = "temporal_tables"
EXTENSION_DDL = [
    f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}",
    f"CREATE TABLE bench.item_ext (item_id integer PRIMARY KEY, {PAYLOAD}, "
    "sys_period tstzrange NOT NULL DEFAULT tstzrange(current_timestamp, null))",
    "CREATE TABLE bench.item_ext_history (LIKE bench.item_ext)",
    "CREATE TRIGGER versioning_trigger BEFORE INSERT OR UPDATE OR DELETE ON bench.item_ext "
    "FOR EACH ROW EXECUTE PROCEDURE versioning('sys_period', 'bench.item_ext_history', true)",
]
EXTENSION_CASE = ("C extension temporal_tables", "bench.item_ext", "bench.item_ext", "", BASE100)
ALSO_EMPTIED = {"bench.item_ext": "bench.item_ext_history"}


def extension_available(conn: ConnectionSettings) -> bool:
    raw = connect_raw(conn)
    with raw.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", (EXTENSION,))
        found = cur.fetchone() is not None
    raw.close()
    return found


def setup_database(conn: ConnectionSettings, with_extension: bool) -> None:
    execute_autocommit(conn, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    execute_autocommit(conn, f"CREATE DATABASE {DB}")
    raw = connect_raw(conn, DB)
    with raw.cursor() as cur:
        for statement in [*framework_ddl(), "CREATE SCHEMA bench", *BASELINES]:
            cur.execute(statement)
        for model in (BenchItemHist, BenchItemHotHist, BenchItemPartHist, BenchItemPartPlHist):
            for statement in render_table(model).statements():
                cur.execute(statement)
        for statement in PLPGSQL_STAMP:
            cur.execute(statement)
        for statement in EXTENSION_DDL if with_extension else []:
            cur.execute(statement)
    raw.commit()
    raw.close()


def reload(conn: ConnectionSettings, table: str, rows: int) -> None:
    """Empty the table, load ``rows`` rows (none: leave it empty), analyse, checkpoint."""
    raw = connect_raw(conn, DB)
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute("SET medallion.allow_history_rewrite = on")
        cur.execute(f"TRUNCATE {', '.join(filter(None, [table, ALSO_EMPTIED.get(table)]))}")
        cur.execute("RESET medallion.allow_history_rewrite")
        if rows:
            cur.execute(FILL.format(table=table, rows=rows))
        cur.execute(f"VACUUM ANALYZE {table}")
        cur.execute("CHECKPOINT")
    raw.close()


def timed_load(conn: ConnectionSettings, table: str, rows: int) -> float:
    reload(conn, table, 0)
    return timed(conn, FILL.format(table=table, rows=rows))


def timed(conn: ConnectionSettings, sql: str) -> float:
    raw = connect_raw(conn, DB)
    with raw.cursor() as cur:
        cur.execute("SELECT 1")  # connection warm; trigger functions compile in the timing
        started = time.perf_counter()
        cur.execute(sql)
        raw.commit()
        elapsed = time.perf_counter() - started
    raw.close()
    return elapsed


def timed_by_hand(conn: ConnectionSettings, table: str, sql: str) -> float:
    """``sql`` timed with the triggers of the table and of its partitions (which have
    statement triggers of their own) disabled, and enabled again afterwards."""
    tables = [table, f"{table}_current", f"{table}_closed"]
    for table_ in tables:
        execute_autocommit(conn, f"ALTER TABLE {table_} DISABLE TRIGGER USER", DB)
    try:
        return timed(conn, sql)
    finally:
        for table_ in tables:
            execute_autocommit(conn, f"ALTER TABLE {table_} ENABLE TRIGGER USER", DB)


def pgbench_tps(
    conn: ConnectionSettings,
    statement: str,
    rows: int,
    transactions: int,
    protocol: str = "simple",
) -> float:
    script = f"\\set id random(1, {rows})\n{statement};\n"
    return run_pgbench(
        conn, DB, script, clients=2, transactions=transactions // 2, protocol=protocol
    ).tps


def measure(
    conn: ConnectionSettings,
    rows: int,
    repeat: int,
    transactions: int,
    only: list[str],
    cases: list[tuple],
) -> list[tuple]:
    """Rows of (operation, case, median, unit, baseline case); cases interleave per repeat."""
    results = []
    for op, template in OPERATIONS.items():
        if only and not any(word in op for word in only):
            continue
        op_cases = [case for case in cases if case[0] != FLOOR or op in FLOOR_SQL]
        if op.startswith("single-row"):
            samples = interleaved_tps(conn, template, op_cases, rows, repeat, transactions)
        else:
            samples = timed_samples(conn, op, template, op_cases, rows, repeat)
        unit = "tps" if op.startswith("single-row") else "s"
        for label, _table, _target, _current, base in op_cases:
            results.append((op, label, statistics.median(samples[label]), unit, base))
    return results


def timed_samples(
    conn: ConnectionSettings, op: str, template: str, cases: list[tuple], rows: int, repeat: int
) -> dict[str, list[float]]:
    """Seconds of one statement per case, each on a freshly loaded table; cases in turns."""
    samples: dict[str, list[float]] = {case[0]: [] for case in cases}
    for _ in range(repeat):
        for label, table, target, current, _base in cases:
            if label == FLOOR:
                reload(conn, table, rows)
                samples[label].append(timed_by_hand(conn, table, FLOOR_SQL[op]))
            elif op.startswith("bulk INSERT"):
                samples[label].append(timed_load(conn, table, rows))
            else:
                reload(conn, table, rows)
                samples[label].append(timed(conn, template.format(target=target, current=current)))
    return samples


ROUNDS_PER_REPEAT = 3


def interleaved_tps(
    conn: ConnectionSettings,
    template: str,
    cases: list[tuple],
    rows: int,
    repeat: int,
    transactions: int,
) -> dict[str, list[float]]:
    """Throughput samples of every case, taken in turns: each table is loaded once, then
    ``repeat`` x 3 rounds each run every case for a third of ``transactions``. This
    machine's commit latency drifts by a third within minutes, so a case is compared with
    its baseline measured seconds apart, not minutes."""
    for _label, table, _target, _current, _base in cases:
        reload(conn, table, rows)
    samples: dict[str, list[float]] = {case[0]: [] for case in cases}
    for _ in range(repeat * ROUNDS_PER_REPEAT):
        for label, _table, target, current, _base in cases:
            sql = template.format(target=target, current=current)
            tps = pgbench_tps(conn, sql, rows, transactions // ROUNDS_PER_REPEAT)
            samples[label].append(tps)
    return samples


def add_versions(conn: ConnectionSettings, table: str) -> None:
    """Give key 1 of a freshly loaded table ``VERSIONS`` versions, a second apart."""
    raw = connect_raw(conn, DB)
    with raw.cursor() as cur:
        cur.execute("SET medallion.allow_history_rewrite = on")
        cur.execute(f"UPDATE {table} SET sys_start = '2000-01-01' WHERE item_id = 1")
        raw.commit()
        for n in range(1, VERSIONS):
            cur.execute("SET medallion.allow_history_rewrite = off")
            cur.execute("SELECT medallion.set_system_time(timestamptz '2000-01-01' + %s * "
                        "interval '1 second')", (n,))  # fmt: skip
            cur.execute(f"UPDATE {table} SET qty = %s WHERE item_id = 1 AND "
                        "sys_end = 'infinity'", (n,))  # fmt: skip
            raw.commit()
        cur.execute("ANALYZE " + table)
    raw.commit()
    raw.close()


def measure_as_of(
    conn: ConnectionSettings, rows: int, repeat: int, transactions: int
) -> list[tuple]:
    """As-of reads planned each time (simple protocol) and prepared once (as the API's
    asyncpg pool reads): a partitioned table costs more to plan."""
    protocols = ("simple", "prepared")
    samples = {(p, label): [] for p in protocols for label, _, _ in AS_OF_CASES}
    for _label, table, _function in AS_OF_CASES:
        reload(conn, table, rows)
        add_versions(conn, table)
    for _ in range(repeat * ROUNDS_PER_REPEAT):  # in turns, as interleaved_tps
        for protocol in protocols:
            for label, _table, function in AS_OF_CASES:
                statement = AS_OF.format(function=function)
                tps = pgbench_tps(
                    conn, statement, VERSIONS, transactions // ROUNDS_PER_REPEAT, protocol
                )
                samples[(protocol, label)].append(tps)
    base = AS_OF_CASES[0][0]
    return [(f"{AS_OF_OP}, {p}", label, statistics.median(samples[(p, label)]), "tps",
             base) for p in protocols for label, _, _ in AS_OF_CASES]  # fmt: skip


def report(results: list[tuple], rows: int, repeat: int) -> None:
    values = {(op, label): value for op, label, value, _, _ in results}
    print(f"\nSystem versioning overhead, {rows:,} rows, median of {repeat} run(s)\n")
    print(f"{'operation':<30} {'table':<28} {'result':>13} {'vs baseline':>13}")
    print("-" * 87)
    for op, label, value, unit, base in results:
        ratio = value / values[(op, base)] if base else 1.0
        shown = f"{value:.3f} s" if unit == "s" else f"{value:,.0f} tps"
        note = f"{ratio:.2f}x time" if unit == "s" else f"{ratio:.2f}x tps"
        print(f"{op:<30} {label:<28} {shown:>13} {note:>13}")
    print(
        "\nTargets: bulk UPDATE <= 1.5x time, bulk DELETE <= 2x; single-row UPDATE >= 0.9x"
        " tps; as-of reads >= 1.0x the default layout's tps."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pgbench-tx", type=int, default=20_000)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="operations containing this word (INSERT, " "UPDATE, DELETE, single-row); repeatable",
    )
    args = parser.parse_args(argv)
    options = {"max_wal_size": "8GB", "shared_buffers": "1GB"}
    with server_for(load_settings(), server_options=options) as conn:
        with_extension = extension_available(conn)
        if not with_extension:
            print(f"(the {EXTENSION} C extension is not installed: no reference row; see the "
                  "module docstring)")  # fmt: skip
        setup_database(conn, with_extension)
        cases = [*CASES, FLOOR_CASE, *([EXTENSION_CASE] if with_extension else [])]
        results = measure(conn, args.rows, args.repeat, args.pgbench_tx, args.only, cases)
        if not args.only or any(word in AS_OF_OP for word in args.only):
            results += measure_as_of(conn, args.rows, args.repeat, args.pgbench_tx)
        report(results, args.rows, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

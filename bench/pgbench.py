"""Run PostgreSQL's own pgbench with a custom script and read its summary.

    result = run_pgbench(conn, "bench_db", "\\set id random(1, 50)\\nUPDATE ...;", clients=4,
                         seconds=60)
    result.committed, result.serialization_failures, result.tps

Serialization failures (SQLSTATE 40001) are counted, not fatal: pgbench 15 goes on with the
next transaction and reports them with ``--failures-detailed``. Used by the benchmarks and
by the concurrency tests of the history triggers.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from src.config import ConnectionSettings
from src.utils.pg_binaries import find_pg_binaries


@dataclass(frozen=True)
class PgbenchResult:
    committed: int  # transactions processed (committed)
    serialization_failures: int  # transactions that failed with 40001
    deadlock_failures: int  # 40P01 (any other error aborts the run: RuntimeError)
    tps: float  # committed transactions per second, without connection time


def pgbench_path() -> Path | None:
    """The pgbench beside the server binaries, or None when that install has none."""
    path = find_pg_binaries().bindir / "pgbench"
    return path if os.access(path, os.X_OK) else None


def _count(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else 0


def parse_summary(out: str) -> PgbenchResult:
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    return PgbenchResult(
        committed=_count(r"number of transactions actually processed: (\d+)", out),
        serialization_failures=_count(r"number of serialization failures: (\d+)", out),
        deadlock_failures=_count(r"number of deadlock failures: (\d+)", out),
        tps=float(tps.group(1)) if tps else float("nan"),
    )


def run_pgbench(
    conn: ConnectionSettings,
    database: str,
    script: str,
    *,
    clients: int,
    seconds: int | None = None,
    transactions: int | None = None,
    protocol: str = "simple",
) -> PgbenchResult:
    """Run ``script`` for ``seconds`` (or ``transactions`` per client) on ``clients``,
    with pgbench's query ``protocol`` (simple, extended or prepared).

    The password travels in the environment, never on the command line.
    """
    pgbench = pgbench_path()
    if pgbench is None:
        raise FileNotFoundError(f"no pgbench in {find_pg_binaries().bindir}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "script.sql"
        path.write_text(script)
        length = ["-T", str(seconds)] if seconds else ["-t", str(transactions)]
        cmd = [str(pgbench), "-n", "-c", str(clients), "-j", str(clients), *length]
        cmd += ["--failures-detailed", "-M", protocol, "-f", str(path)]
        cmd += ["-h", conn.host, "-p", str(conn.port), "-U", conn.user, database]
        password = conn.password.get_secret_value() if conn.password else ""
        env = {**os.environ, "PGPASSWORD": password}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:  # 2: a client aborted on an error other than 40001/40P01
        raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr[-2000:]}")
    return parse_summary(done.stdout)

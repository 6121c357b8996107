"""Benchmark: orchestrate_build on synthetic projects of 250, 500 and 1,000 tables.

    uv run python bench/bench_build.py [--sizes 250 500 1000]

Each project is 20% temporal, 10% reference and 70% transactional tables with foreign
keys between them. For each size it times, as a person would run them (fresh processes):
``orchestrate_build.py postgres <db>`` from scratch, the idempotent second run, and the
baseline: SQLAlchemy's plain ``metadata.create_all`` of the same tables into a fresh
database (which creates no history triggers, views or functions). Targets: full build
< 30 s and second run < 10 s at 1,000 tables, growing linearly.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synthetic_project import write_project

from src.config import PROJECT_ROOT, load_settings
from src.utils.connections import execute_autocommit
from src.utils.embedded_postgres import server_for


def _env(conn, root: Path, src: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PGHOST": conn.host,
        "PGPORT": str(conn.port),
        "PGUSER": conn.user,
        "PYTHONPATH": str(root),
        "MEDALLION_SRC_PATH": str(src),
    }
    if conn.password is not None:
        env["PGPASSWORD"] = conn.password.get_secret_value()
    return env


def _run(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return elapsed


def measure(conn, size: int, root: Path) -> tuple[float, float, float]:
    name = f"bench_build_{size}"
    package = f"bench_build_pkg_{size}"
    reference, temporal = size // 10, size // 5
    src = write_project(
        root, package, name, reference=reference, temporal=temporal,
        transactional=size - reference - temporal,
    )  # fmt: skip
    env = _env(conn, root, src)
    build = [sys.executable, "scripts/orchestrate_build.py", "postgres", name, "WARNING"]
    for database in (name, name + "_create_all"):
        execute_autocommit(conn, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    first = _run(build, env)
    second = _run(build, env)
    execute_autocommit(conn, f"CREATE DATABASE {name}_create_all")
    baseline_cmd = [sys.executable, "bench/create_all_baseline.py", str(src), name]
    baseline = _run([*baseline_cmd, f"{name}_create_all"], env)
    for database in (name, name + "_create_all"):
        execute_autocommit(conn, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return first, second, baseline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000])
    args = parser.parse_args(argv)
    rows = []
    with server_for(load_settings()) as conn, tempfile.TemporaryDirectory() as root:
        for size in args.sizes:
            rows.append((size, *measure(conn, size, Path(root))))
    print("\norchestrate_build on synthetic projects (wall time of whole commands)\n")
    print(f"{'tables':>7} {'full build':>11} {'2nd run':>9} {'create_all':>11} "
          f"{'full/create_all':>16} {'per table':>10}")  # fmt: skip
    for size, first, second, baseline in rows:
        print(
            f"{size:>7} {first:>10.2f}s {second:>8.2f}s {baseline:>10.2f}s "
            f"{first / baseline:>15.2f}x {first / size * 1000:>8.1f}ms"
        )
    print("\nTargets at 1,000 tables: full build < 30 s, second run < 10 s, linear growth.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

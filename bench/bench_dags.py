"""Benchmark the Airflow side (issue 6): DAG file parse time and dag.test() wall time.

    uv run python bench/bench_dags.py [--trades 10000] [--repeat 5]

1. Parse time of each DAG file, as Airflow's DAG processor sees it (Airflow already
   imported) and cold (a fresh interpreter importing Airflow and the file), against a
   baseline DAG file of one EmptyOperator parsed the same way.
2. The three layers' DAGs with ``dag.test()`` for one demo day (default size: 50
   instruments, 20 portfolios, 10,000 trades), in one process, and how much of it is
   starting Spark (measured on its own, first thing in the process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from src.orchestration.local_airflow import DAGS_FOLDER, use_local_airflow

BASELINE_DAG = '''"""Airflow DAG: the smallest useful one, for comparison."""
from datetime import datetime
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
with DAG(dag_id="baseline", schedule="@daily", start_date=datetime(2026, 11, 1)) as dag:
    EmptyOperator(task_id="noop")
'''
COLD = """
import time, runpy, sys
started = time.perf_counter()
runpy.run_path(sys.argv[1])
print(time.perf_counter() - started)
"""


def parse_times(files: list[Path], repeat: int) -> dict[str, tuple[float, float]]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(files[0]), collect_dags=False)
    results = {}
    for path in files:
        warm = []
        for _ in range(repeat):
            started = time.perf_counter()
            bag.process_file(str(path), only_if_updated=False)
            warm.append(time.perf_counter() - started)
        cold = [
            float(subprocess.run([sys.executable, "-c", COLD, str(path)], capture_output=True,
                                 text=True, check=True).stdout.split()[-1])
            for _ in range(max(1, repeat // 2))
        ]  # fmt: skip
        results[path.name] = (statistics.median(warm), statistics.median(cold))
    return results


def print_parse(results: dict[str, tuple[float, float]]) -> None:
    base_warm, base_cold = results["baseline_dag.py"]
    print(f"\n1. DAG file parse time (median)\n\n{'file':<22} {'warm':>9} {'vs base':>8} "
          f"{'cold':>8} {'vs base':>8}\n" + "-" * 60)  # fmt: skip
    for name, (warm, cold) in results.items():
        print(f"{name:<22} {warm * 1000:>7.1f}ms {warm / base_warm:>7.1f}x "
              f"{cold:>7.2f}s {cold / base_cold:>7.2f}x")  # fmt: skip


def dag_test_day(trades: int) -> None:
    from src._base.build.steps import ALL_STEPS, BuildContext, run_steps
    from src.config import load_settings
    from src.demo.generator import SourceSpec
    from src.demo.sources import generate_days
    from src.orchestration.local_airflow import run_layers
    from src.utils.connections import execute_autocommit
    from src.utils.embedded_postgres import server_for
    from src.utils.spark import build_spark_session

    settings = load_settings()
    day = date(2026, 11, 20)
    with server_for(settings) as conn:
        # tasks read their settings from the environment: point them at this server
        os.environ.update(PGHOST=conn.host, PGPORT=str(conn.port), PGUSER=conn.user)
        if conn.password is not None:
            os.environ["PGPASSWORD"] = conn.password.get_secret_value()
        settings = load_settings()
        for name in ("demo", settings.source_database):
            execute_autocommit(conn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        run_steps(BuildContext(conn=conn, src_path=settings.src_path), ALL_STEPS, "demo")
        generate_days(settings, conn, [day], SourceSpec(trades=trades))
        started = time.perf_counter()
        build_spark_session(settings)
        spark_start = time.perf_counter() - started
        outcomes = run_layers([day])
        total = sum(o.seconds for o in outcomes)
    print(f"\n2. dag.test() of the three layers for one day ({trades:,} trades)\n")
    for o in outcomes:
        print(f"{o.dag_id:<14} {o.state:<8} {o.seconds:>6.1f}s")
    print(f"{'Spark start':<23} {spark_start:>6.1f}s  (once per process; "
          f"{spark_start / (spark_start + total):.0%} of {spark_start + total:.1f}s)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        use_local_airflow(Path(home))
        os.environ["MEDALLION_LANDING_DIR"] = str(Path(home) / "landing")
        baseline = Path(home) / "baseline_dag.py"
        baseline.write_text(BASELINE_DAG)
        files = [baseline, *sorted(DAGS_FOLDER.glob("*/*.py"))]
        print_parse(parse_times(files, args.repeat))
        dag_test_day(args.trades)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: one demo day through Airflow's real scheduler against the same day in one
process, measured in the same run.

    uv run python bench/bench_scheduler.py [--engine postgres] [--trades 2000]
    uv run python bench/bench_scheduler.py --engine spark [--jvm-per-task]

On a throw-away embedded server: two days of sources, and the demo built once per mode
(``demo__inproc``, ``demo__sched``, ...). The baseline runs the measured day with
``run_pipeline.py`` in one process (its interpreter and, on Spark, its JVM start
included), on a warehouse that holds the day before. Then ``airflow_local.py
standalone`` starts Airflow's components (LocalExecutor, metadata in PostgreSQL,
MEDALLION_ENGINE the engine measured; on Spark also its Connect server,
``--spark-connect``), and once it says it is ready (the DAGs parsed, the Connect server
warmed up, the execution API built) the three layer DAGs are unpaused. Bronze is
triggered as the UI's Trigger button does (REST), for the day before (the components'
first day: their first tasks, the Connect server's first real jobs), then for the
measured day (a scheduler that has been running, as a daily one is); the clock runs
from each trigger until ``demo_gold``'s run has succeeded (bronze publishes its asset,
which starts silver, which starts gold). Printed: both days' times and their ratio to
the baseline, and where the measured day's time went (each task's run time, summed per
layer, against each layer's wall time). ``--jvm-per-task`` also measures the scheduler
with no Connect server (each task starts its own JVM).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

from src.config import PROJECT_ROOT, load_settings
from src.demo.generator import SourceSpec, generate_day
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import server_for
from src.utils.pg_binaries import free_port
from src.utils.processes import stop_process_group

DAY = date(2026, 11, 20)
WARM_UP = date(2026, 11, 19)  # the components' first day, before the measured one
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
DAGS = ("demo_bronze", "demo_silver", "demo_gold")


def _unscheduled_dags(folder: Path) -> Path:
    """The project's DAGs with bronze started only by the trigger: unpaused, its daily
    schedule would also run yesterday's interval (catchup off), whose sensors would wait
    for sources that never come, ahead of the measured run (one active run per DAG)."""
    shutil.copytree(PROJECT_ROOT / "airflow" / "dags", folder)
    for path in (folder / "bronze").glob("*.py"):
        path.write_text(path.read_text().replace('schedule="@daily"', "schedule=None"))
    return folder


def _script(env: dict[str, str], script: str, *args: str) -> None:
    done = subprocess.run([sys.executable, f"scripts/{script}", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{script} {' '.join(args)} failed: {done.stderr[-1500:]}")


def _rows(conn, sql: str, params=None) -> list[tuple]:
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        raw.close()


def _trigger(base: str, auth: dict[str, str], day: date) -> str:
    """Queue bronze for ``day`` as the UI's Trigger button does; the run's id."""
    queued = httpx.post(f"{base}/api/v2/dags/demo_bronze/dagRuns", headers=auth, timeout=30,
                        json={"logical_date": None, "conf": {"date": day.isoformat()},
                              "dag_run_id": f"data__{day.isoformat()}__1"})  # fmt: skip
    if queued.status_code != 200:
        raise SystemExit(f"trigger failed: {queued.status_code} {queued.text[:500]}")
    return queued.json()["dag_run_id"]


def _one_day(airflow_db, base: str, auth: dict[str, str], day: date, done: int) -> float:
    """Seconds from bronze's trigger for ``day`` to gold's success (its ``done``-th)."""
    started = time.monotonic()
    _trigger(base, auth, day)
    while True:
        states = _rows(airflow_db, "SELECT dag_id, state FROM dag_run WHERE dag_id = ANY(%s)"
                       " AND run_type <> 'scheduled'", (list(DAGS),))  # fmt: skip
        if states.count(("demo_gold", "success")) == done:
            return time.monotonic() - started
        if any(state == "failed" for _, state in states):
            raise SystemExit(f"a run failed: {states}")
        if time.monotonic() - started > 1800:
            raise SystemExit(f"no gold after 30 minutes: {states}")
        time.sleep(0.5)


def scheduled(
    conn, env: dict[str, str], engine: str, home: Path, connect: bool = False
) -> tuple[float, float, list[tuple]]:
    """Start the components (and a Spark Connect server beside them if ``connect``),
    unpause the DAGs, run the day before as the components' first day, then the measured
    day; seconds of each (trigger to gold), and the measured day's tasks."""
    port, connect_port = free_port(), free_port()
    execute_autocommit(conn, 'DROP DATABASE IF EXISTS "airflow" WITH (FORCE)')  # a fresh one
    env = {**env, "MEDALLION_ENGINE": engine}  # the deployment's engine, every layer
    said = home / "standalone.err"  # the supervisor's own lines: "Airflow is ready" when ready
    home.mkdir(parents=True, exist_ok=True)
    with said.open("w") as err:
        supervisor = subprocess.Popen(
            [sys.executable, "scripts/airflow_local.py", "standalone", "--port", str(port),
             "--metadata-db", "postgres",
             *(["--spark-connect", str(connect_port)] if connect else [])],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
            start_new_session=True,
        )  # fmt: skip
    airflow_db = conn.with_database("airflow")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:  # the DAG processor has parsed the three DAGs, the components are ready
            if supervisor.poll() is not None:
                raise SystemExit(f"standalone exited: {said.read_text()[-2000:]}")
            try:
                parsed = _rows(airflow_db, "SELECT count(*) FROM dag WHERE dag_id = ANY(%s)",
                               (list(DAGS),))[0][0]  # fmt: skip
            except Exception:  # the database is being made
                parsed = 0
            if parsed == len(DAGS) and "Airflow is ready" in said.read_text():
                break
            if time.monotonic() > deadline:
                raise SystemExit("the DAGs were never parsed")
            time.sleep(2)
        token = httpx.get(f"{base}/auth/token", timeout=30).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}  # standalone: every user an admin
        for dag_id in DAGS:
            httpx.patch(f"{base}/api/v2/dags/{dag_id}", json={"is_paused": False}, headers=auth,
                        timeout=30).raise_for_status()  # fmt: skip
        first = _one_day(airflow_db, base, auth, WARM_UP, 1)
        since = _rows(airflow_db, "SELECT now()")[0][0]
        seconds = _one_day(airflow_db, base, auth, DAY, 2)
        tasks = _rows(
            airflow_db,
            "SELECT dag_id, task_id, extract(epoch FROM end_date - start_date)"
            " FROM task_instance WHERE start_date >= %s AND state = 'success'",
            (since,),
        )
        spans = _rows(
            airflow_db,
            "SELECT dag_id, extract(epoch FROM end_date - start_date) FROM dag_run"
            " WHERE start_date >= %s AND state = 'success'",
            (since,),
        )
        return first, seconds, [*tasks, *[(dag, "(run)", s) for dag, s in spans]]
    finally:
        stop_process_group(supervisor, 60)


def _where(label: str, tasks: list[tuple]) -> None:
    print(f"\nwhere the time went, {label} (seconds):")
    for dag in DAGS:
        own = [(task, s) for d, task, s in tasks if d == dag and task != "(run)"]
        [wall] = [s for d, task, s in tasks if d == dag and task == "(run)"] or [0.0]
        busy = sum(float(s) for _, s in own)
        slowest = sorted(own, key=lambda t: -float(t[1]))[:3]
        shown = ", ".join(f"{t} {float(s):.1f}" for t, s in slowest)
        print(f"  {dag:<12} run {float(wall):6.1f}, tasks {busy:6.1f} in all ({len(own)}); "
              f"slowest: {shown}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="postgres", choices=("postgres", "spark"))
    parser.add_argument("--trades", type=int, default=2000)
    parser.add_argument(
        "--jvm-per-task", action="store_true",
        help="spark: also measure the scheduler with every task starting its own JVM (slow)",
    )  # fmt: skip
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
    runs: list[tuple[str, float, list[tuple]]] = []
    with server_for(load_settings(None), home=folder / "pg", server_options=FAST) as conn:
        execute_autocommit(conn, "CREATE DATABASE bench_source")
        spec = SourceSpec(trades=args.trades, instruments=20, portfolios=8)
        for day in (WARM_UP, DAY):
            generate_day(conn.with_database("bench_source"), folder / "landing", day, spec)
        dags = _unscheduled_dags(folder / "dags")
        env = {
            **os.environ,
            "MEDALLION_DAGS_FOLDER": str(dags),
            "PGHOST": conn.host, "PGPORT": str(conn.port), "PGUSER": conn.user,
            "MEDALLION_SOURCE_DATABASE": "bench_source",
            "MEDALLION_LANDING_DIR": str(folder / "landing"),
            "MEDALLION_API_PASSFILE": str(folder / "api-pgpass"),
        }  # fmt: skip
        if conn.password is not None:
            env["PGPASSWORD"] = conn.password.get_secret_value()
        modes = [("Airflow scheduler (LocalExecutor)", "sched", False)]
        if args.engine == "spark":
            modes = [("scheduler + Spark Connect server", "sched", True)]
            if args.jvm_per_task:
                modes.append(("scheduler, a JVM per task", "jvm", False))
        for name in ("inproc", *(m[1] for m in modes)):
            _script(env, "orchestrate_build.py", "postgres", "demo", "--env", name)
        for day in (WARM_UP, DAY):  # the measured day on a warehouse holding the day before
            started = time.monotonic()  # the command a person runs, interpreter start included
            _script(env, "run_pipeline.py", "demo", "--date", day.isoformat(), "--engine",
                    args.engine, "--env", "inproc")  # fmt: skip
            baseline = time.monotonic() - started
        for label, name, connect in modes:
            home = folder / f"airflow-{name}"
            run_env = {**env, "MEDALLION_ENV": name, "MEDALLION_AIRFLOW_HOME": str(home)}
            first, seconds, tasks = scheduled(conn, run_env, args.engine, home, connect)
            runs.append((f"{label}, its first day", first, []))
            runs.append((f"{label}, the next day", seconds, tasks))
    print(f"\none demo day ({args.trades} trades, 20 instruments), engine {args.engine}")
    print(f"{'':<56} {'seconds':>8} {'x one process':>14}")
    print(f"{'run_pipeline.py, one process':<56} {baseline:>8.1f} {1.0:>13.2f}x")
    for label, seconds, _ in runs:
        print(f"{label:<56} {seconds:>8.1f} {seconds / baseline:>13.2f}x")
    for label, _, tasks in runs:
        if tasks:
            _where(label, tasks)


if __name__ == "__main__":
    main()

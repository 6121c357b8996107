"""One small day on a real Spark standalone cluster (a master and a worker of 1 core and
1 GiB, started from PySpark's own ``spark-class``): the executors get the project's code
and Python without hand set-up, and silver and gold equal a local run's."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from scripts import orchestrate_build, run_pipeline
from src.config import ConnectionSettings
from src.demo.generator import SourceSpec
from src.utils.pg_binaries import free_port
from tests.demo.conftest import comparable_fingerprint
from tests.scripts.conftest import day_sources, run_day_in_child

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 20)
ENVS = ("demo__local", "demo__cluster")


def _spark_class(home: Path, *args: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(home / "bin" / "spark-class"), *args], env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """A standalone master and one worker (1 core, 1 GiB); its master URL."""
    import pyspark

    home = Path(pyspark.__file__).parent
    port, ui = free_port(), free_port()
    master = _spark_class(
        home, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
        "--port", str(port), "--webui-port", str(ui), log=tmp_path / "master.log",
    )  # fmt: skip
    url = f"spark://127.0.0.1:{port}"
    worker = _spark_class(
        home, "org.apache.spark.deploy.worker.Worker", "--cores", "1", "--memory", "1g",
        "--webui-port", str(free_port()), url, log=tmp_path / "worker.log",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not _alive_workers(ui):
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(1)
        yield url
    finally:
        for process in (worker, master):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _alive_workers(ui: int) -> int:
    try:
        state = httpx.get(f"http://127.0.0.1:{ui}/json/", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return 0
    return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")


def test_a_day_on_a_standalone_cluster_equals_a_local_run(
    cluster, throwaway_server: ConnectionSettings, monkeypatch, tmp_path, spark
) -> None:
    spec = SourceSpec(seed=8, trades=60, instruments=4, portfolios=2)
    with day_sources(throwaway_server, monkeypatch, tmp_path, DAY, spec, ENVS):
        for env in ("local", "cluster"):
            assert orchestrate_build.main(["postgres", "demo", "--env", env]) == 0
        started = time.monotonic()
        local = ["demo", "--date", DAY.isoformat(), "--engine", "spark", "--env", "local"]
        assert run_pipeline.main(local) == 0  # the session's local Spark
        local_seconds = time.monotonic() - started

        _, seconds = run_day_in_child(DAY, "cluster", MEDALLION_SPARK_MASTER=cluster)
        print(f"one day: local {local_seconds:.1f} s, cluster {seconds:.1f} s")
        local_print, cluster_print = (
            comparable_fingerprint(throwaway_server.with_database(db), ("silver", "gold"))
            for db in ENVS
        )
        assert cluster_print == local_print
        assert cluster_print["gold.position_eod_hist"][0] > 0

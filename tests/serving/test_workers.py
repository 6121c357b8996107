"""scripts/serve.py --workers: several processes on one port, one set of metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scripts import serve
from src.config import PROJECT_ROOT
from src.utils.pg_binaries import free_port
from tests.serving.conftest import ApiRole, Served

pytestmark = [pytest.mark.postgres]

REQUESTS = 40


def _workers_of(pid: int) -> int:
    """Processes uvicorn spawned as workers of ``pid`` (Linux /proc)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmdline:
            count += 1
    return count


def _requests_counted(url: str) -> float:
    """medallion_api_requests for the trade list, as one scrape reports it."""
    text = httpx.get(url + "/metrics", headers={"Connection": "close"}).text
    for family in text_string_to_metric_families(text):
        if family.name == "medallion_api_requests":
            return sum(
                s.value
                for s in family.samples
                if s.name.endswith("_total") and s.labels["route"] == "/silver/trade"
            )
    return 0.0


def test_two_workers_answer_on_one_port_and_their_metrics_add_up(
    served: Served, api_role: ApiRole, use_test_server
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MEDALLION_API_PASSFILE": str(api_role.passfile)}
    command = [
        sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), "--database",
        served.warehouse.database, "--project", "demo", "--port", str(port), "--workers", "2",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "serve.py --workers 2 stopped"
            assert time.monotonic() < deadline, "serve.py --workers 2 did not start"
            time.sleep(0.2)
        assert _workers_of(process.pid) == 2
        for _ in range(REQUESTS):  # a new connection each: the kernel spreads them
            response = httpx.get(url + "/silver/trade?limit=2", headers={"Connection": "close"})
            assert response.status_code == 200
        # whichever worker answers the scrape counts every worker's requests
        assert [_requests_counted(url) for _ in range(6)] == [REQUESTS] * 6
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_serve_refuses_no_workers(use_test_server, caplog) -> None:
    assert serve.main(["--workers", "0"]) == 1
    assert "--workers 0: give 1 or more" in caplog.text

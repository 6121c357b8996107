"""The status page (rendered by headless Chromium) and the Prometheus metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.serving.conftest import Served, query

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def failed_gold(served: Served) -> str:
    """A later date of position_to_gold that failed: the page shows it as the problem."""
    query(
        served,
        "INSERT INTO medallion.load_log (job, logical_date, batch_id, status, message)"
        " VALUES ('position_to_gold', '2026-11-21', gen_random_uuid(), 'failed',"
        " 'PipelineError: bar_to_gold has not loaded 2026-11-21')",
    )
    return "failed for 2026-11-21: PipelineError: bar_to_gold has not loaded 2026-11-21"


class _Text(HTMLParser):
    """The visible text of each table row (``<tr id=transform>``), cells joined by '|'."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.row: str | None = None
        self.style = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.row = dict(attrs).get("id")
            if self.row:
                self.rows[self.row] = []
        elif tag == "td" and self.row:
            self.rows[self.row].append("")
        self.style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.row and self.rows[self.row] and not self.style:
            self.rows[self.row][-1] += data.strip()


def test_the_status_page_in_a_real_browser(served: Served, failed_gold: str, tmp_path) -> None:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (make setup installs Debian's chromium as root)")
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = tmp_path / "status.png"
    subprocess.run(
        [*browser, f"--screenshot={shot}", "--window-size=1400,1600", served.url + "/"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = subprocess.run(
        [*browser, "--dump-dom", served.url + "/"],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    page = _Text()
    page.feed(dom)
    expected = dict(
        query(
            served,
            "SELECT job, rows_written FROM medallion.load_log"
            " WHERE status = 'succeeded' AND logical_date = '2026-11-20'",
        )
    )
    assert set(page.rows) >= set(expected)  # one row per transform of the catalogue
    for job, written in expected.items():
        cells = page.rows[job]
        assert cells[1] == "2026-11-20" and cells[2] == f"{written:,}", (job, cells)
        assert re.fullmatch(r"(just now|\d+ min ago|\d+ h( \d+ min)? ago)", cells[5]), cells
    rules = query(
        served,
        "SELECT rule, count(*) FROM silver.quarantine WHERE job = 'trade_to_silver'"
        " AND logical_date = '2026-11-20' GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    assert page.rows["trade_to_silver"][4] == ", ".join(f"{r} {n:,}" for r, n in rules)
    assert page.rows["position_to_gold"][-1] == failed_gold


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """``{(sample name, labels): value}`` of a Prometheus exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_requests_and_read_the_load_log(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url) as client:
        [(trade_id,)] = query(served, "SELECT trade_id FROM silver.trade LIMIT 1")
        assert (await client.get(f"/silver/trade/{trade_id}")).status_code == 200
        assert (await client.get("/silver/trade/not-a-uuid")).status_code == 422
        found = samples((await client.get("/metrics")).text)

    def value(name: str, **labels: str) -> float:
        return found[(name, frozenset(labels.items()))]

    route = {"route": "/silver/trade/{trade_id}", "method": "GET"}
    assert value("medallion_api_requests_total", **route, status="200") >= 1
    assert value("medallion_api_errors_total", **route, status="422") >= 1
    assert value("medallion_api_request_seconds_count", **route) >= 2
    assert value("medallion_api_request_seconds_bucket", **route, le="+Inf") >= 2
    [(written, rejected)] = query(
        served,
        "SELECT rows_written, rows_rejected FROM medallion.load_log"
        " WHERE job = 'trade_to_silver' AND logical_date = '2026-11-20'",
    )
    labels = {
        "database": served.warehouse.database, "layer": "silver", "transform": "trade_to_silver"
    }  # fmt: skip
    assert value("medallion_load_rows_written", **labels) == written
    assert value("medallion_load_rows_rejected", **labels) == rejected
    assert 0 <= value("medallion_load_freshness_seconds", **labels) < 3600
    day = value("medallion_load_last_logical_date_timestamp_seconds", **labels)
    assert datetime.fromtimestamp(day, UTC) == datetime(2026, 11, 20, tzinfo=UTC)
    rules = query(
        served,
        "SELECT rule, count(*) FROM silver.quarantine WHERE job = 'trade_to_silver'"
        " AND logical_date = '2026-11-20' GROUP BY 1",
    )
    assert rules
    for rule, count in rules:
        assert value("medallion_rejects", **labels, rule=rule) == count

"""The collector as an Airflow DAG (demo_prices): paused until switched on, each run
prices its minute with dag.test() against a local server speaking Binance's format; a
late run stores its minute as a gap; without symbols configured it says what to set."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer

from src._base.build.steps import build_in_database
from src.config import SRC_PATH, ConnectionSettings
from src.marketdata.collector import floor_minute
from src.orchestration.local_airflow import ensure_metadata_db, load_dag
from src.utils.connections import execute_autocommit
from tests.conftest import run_sql

pytestmark = pytest.mark.postgres


@pytest.fixture
def demo(throwaway_server: ConnectionSettings, httpserver: HTTPServer, monkeypatch):
    execute_autocommit(throwaway_server, "DROP DATABASE IF EXISTS demo WITH (FORCE)")
    execute_autocommit(throwaway_server, "CREATE DATABASE demo")
    warehouse = throwaway_server.with_database("demo")
    assert all(r.ok for r in build_in_database(warehouse, SRC_PATH, "demo"))
    httpserver.expect_request("/api/v3/ticker/price").respond_with_json(
        {"symbol": "BTCUSDT", "price": "60000.25"}
    )
    monkeypatch.setenv("MEDALLION_BINANCE_BASE_URL", httpserver.url_for(""))
    monkeypatch.setenv("MEDALLION_COLLECT_SYMBOLS", "BTCUSDT")
    yield warehouse
    execute_autocommit(throwaway_server, "DROP DATABASE IF EXISTS demo WITH (FORCE)")


def _run(minute_start: datetime) -> str:
    ensure_metadata_db()
    run = load_dag("demo_prices").test(logical_date=minute_start)
    return str(getattr(run.state, "value", run.state))


def test_the_dag_is_an_option_paused_until_switched_on() -> None:
    dag = load_dag("demo_prices")
    assert dag.is_paused_upon_creation and dag.max_active_runs == 1 and not dag.catchup
    assert "expression='* * * * *'" in repr(dag.timetable)


def test_a_run_prices_its_minute_and_a_late_run_stores_a_gap(demo) -> None:
    if datetime.now(UTC).second > 40:  # leave the run the rest of the minute to be on time
        time.sleep(61 - datetime.now(UTC).second)
    on_time = floor_minute(datetime.now(UTC))  # a test run's interval ends at its date
    assert _run(on_time) == "success"
    late = on_time - timedelta(hours=1)
    assert _run(late) == "success"
    rows = run_sql(demo, "SELECT minute, price, gap_reason FROM bronze.br_price ORDER BY 1")
    assert [(m, p) for m, p, _ in rows] == [(late, None), (on_time, Decimal("60000.25"))]
    assert "the run started" in rows[0][2] and "after its minute began" in rows[0][2]


def test_without_symbols_the_run_fails_saying_what_to_set(demo, monkeypatch, capfd) -> None:
    monkeypatch.delenv("MEDALLION_COLLECT_SYMBOLS")
    assert _run(floor_minute(datetime.now(UTC))) == "failed"
    out, err = capfd.readouterr()
    assert "MEDALLION_COLLECT_SYMBOLS ''" in out + err
    assert run_sql(demo, "SELECT count(*) FROM bronze.br_price") == [(0,)]

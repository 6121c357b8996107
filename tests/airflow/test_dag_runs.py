"""The daily DAGs end to end with dag.test() on real PostgreSQL and local Spark:
one date through bronze, silver and gold; the same date again; then a date whose source
data breaks a quality rule, which must fail silver and keep gold from running."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from src._base.build.steps import build_in_database
from src.config import SRC_PATH, ConnectionSettings
from src.demo.generator import SourceSpec, generate_day
from src.orchestration.local_airflow import run_layers
from src.utils.connections import execute_autocommit
from tests.demo.conftest import warehouse_fingerprint
from tests.demo.transforms.expected import query

GOOD, BAD = date(2026, 11, 19), date(2026, 11, 20)
SPEC = SourceSpec(seed=11, instruments=8, portfolios=4, trades=150)


@pytest.fixture
def demo(throwaway_server: ConnectionSettings, monkeypatch, tmp_path: Path):
    server = throwaway_server
    monkeypatch.setenv("MEDALLION_LANDING_DIR", str(tmp_path / "landing"))
    for name in ("demo", "demo_source"):
        execute_autocommit(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        execute_autocommit(server, f"CREATE DATABASE {name}")
    assert all(r.ok for r in build_in_database(server.with_database("demo"), SRC_PATH, "demo"))
    yield server.with_database("demo"), server.with_database("demo_source"), tmp_path / "landing"
    for name in ("demo", "demo_source"):
        execute_autocommit(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def published_dates() -> dict[str, list[list[str]]]:
    """The asset events the layers emitted (Airflow's metadata database), by asset URI."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(AssetModel.uri, AssetEvent.extra).join(
            AssetModel, AssetModel.id == AssetEvent.asset_id
        )
        events: dict[str, list[list[str]]] = {}
        for uri, extra in rows.order_by(AssetEvent.id):
            events.setdefault(uri, []).append(extra["dates"])
    return events


def test_three_layers_run_rerun_and_stop_at_a_failed_check(demo, capfd) -> None:
    warehouse, source, landing = demo
    generate_day(source, landing, GOOD, SPEC)
    capfd.readouterr()
    outcomes = run_layers([GOOD])
    assert [(o.dag_id, o.state) for o in outcomes] == [
        ("demo_bronze", "success"),
        ("demo_silver", "success"),
        ("demo_gold", "success"),
    ]
    shown = capfd.readouterr().err  # the tasks' own lines at INFO; Airflow's from WARNING
    assert "INFO    src._base.pipeline.daily: 2026-11-19 trade_to_silver: " in shown
    assert "published medallion://demo/gold for 2026-11-19" in shown
    assert "PASS kpi_bounds(share of trade events quarantined <= 0.1)" in shown
    positions = query(warehouse, "SELECT count(*) AS n FROM gold.position_eod").n[0]
    assert positions > 0
    assert published_dates() == {
        "medallion://demo/bronze": [["2026-11-19"]],
        "medallion://demo/silver": [["2026-11-19"]],
        "medallion://demo/gold": [["2026-11-19"]],
    }  # what schedules the next layer for the same date
    before = warehouse_fingerprint(warehouse)

    assert all(o.ok for o in run_layers([GOOD]))  # the same date again: nothing changes
    assert warehouse_fingerprint(warehouse) == before

    generate_day(source, landing, BAD, SourceSpec(seed=11, instruments=8, portfolios=4,
                                                  trades=150, bad_rate=0.05))  # fmt: skip
    capfd.readouterr()
    outcomes = run_layers([BAD])
    logged = "".join(capfd.readouterr())  # the task log: Airflow writes it to the console
    assert [(o.dag_id, o.state) for o in outcomes] == [
        ("demo_bronze", "success"),
        ("demo_silver", "failed"),
    ]  # gold never ran
    assert outcomes[1].failed_tasks == ["dq_trade_reject_rate", "silver_published"]
    rule = "kpi_bounds(share of trade events quarantined <= 0.1)"
    assert f"FAIL {rule}: 1 failing (e.g. value 0.1" in logged  # the rule and the figure
    assert f"dq_trade_reject_rate for 2026-11-20: 1 rule(s) failed: FAIL {rule}" in logged
    late = query(warehouse, "SELECT count(*) AS n FROM gold.position_eod WHERE business_date = %s",
                 (BAD,))  # fmt: skip
    assert late.n[0] == 0


def test_a_late_source_parks_its_load_until_it_lands_or_the_wait_ends(
    demo, monkeypatch, capfd
) -> None:
    """The day's trade events are held back; bronze's trade load reschedules itself (no
    worker held) until they land, then loads; a source that never lands fails the load
    at its timeout, saying what it waited for, with nothing loaded."""
    import threading

    from src.orchestration.local_airflow import ensure_metadata_db, load_dag

    warehouse, source, landing = demo
    generate_day(source, landing, GOOD, SPEC)
    hold = "CREATE TABLE ops.held AS SELECT * FROM ops.trade_event WHERE recorded_date = %s"
    execute_autocommit(source, hold.replace("%s", f"'{GOOD}'"))
    execute_autocommit(source, f"DELETE FROM ops.trade_event WHERE recorded_date = '{GOOD}'")
    monkeypatch.setenv("MEDALLION_SOURCE_WAIT", "120")
    monkeypatch.setenv("MEDALLION_SOURCE_POKE", "1")
    ensure_metadata_db()
    land = threading.Timer(
        4.0, execute_autocommit, (source, "INSERT INTO ops.trade_event SELECT * FROM ops.held")
    )
    land.start()
    dag = load_dag("demo_bronze")
    run = dag.test(logical_date=datetime(2026, 11, 19, tzinfo=UTC), run_conf={"engine": "postgres"})
    land.join()
    states = {
        ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()
    }
    assert set(states.values()) == {"success"}, states
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    waited = tis["trade_to_bronze"]  # until the events landed (a scheduler reschedules
    assert waited.end_date - run.start_date >= timedelta(seconds=3)  # it between checks)
    assert tis["dq_trade_row_count"].start_date >= waited.end_date
    landed = query(warehouse, "SELECT count(*) AS n FROM bronze.br_trade").n[0]
    assert landed > 0

    monkeypatch.setenv("MEDALLION_SOURCE_WAIT", "2")  # the next day never comes
    dag = load_dag("demo_bronze")
    run = dag.test(logical_date=datetime(2026, 11, 21, tzinfo=UTC), run_conf={"engine": "postgres"})
    states = {
        ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()
    }
    assert states["trade_to_bronze"] == "failed"
    assert states["dq_trade_row_count"] == "upstream_failed"
    logged = "".join(capfd.readouterr())
    assert "Still waiting: trade_to_bronze for 2026-11-21: " in logged
    loaded = "SELECT count(*) AS n FROM bronze.br_trade WHERE logical_date = '2026-11-21'"
    assert query(warehouse, loaded).n[0] == 0


def test_a_run_with_reload_in_its_conf_replaces_bronze_batches(demo, monkeypatch) -> None:
    """Rerunning a date from the UI with {"reload": true}: bronze loads it again."""
    from src.orchestration.local_airflow import ensure_metadata_db, load_dag

    warehouse, source, landing = demo
    generate_day(source, landing, GOOD, SPEC)
    ensure_metadata_db()
    dag = load_dag("demo_bronze")
    conf = {"date": GOOD.isoformat(), "engine": "postgres"}
    logical = datetime(2026, 11, 19, tzinfo=UTC)
    assert dag.test(logical_date=logical, run_conf=conf).state == "success"
    before = query(warehouse, "SELECT count(*) AS n FROM bronze.br_trade").n[0]
    execute_autocommit(
        source,
        "INSERT INTO ops.trade_event (event_id, trade_id, portfolio_code, instrument_code,"
        " action, status, quantity, filled_quantity, price, event_time, recorded_date)"
        " SELECT event_id || '-fix', trade_id || '-fix', portfolio_code, instrument_code,"
        " action, status, quantity, filled_quantity, price, event_time, recorded_date"
        f" FROM ops.trade_event WHERE recorded_date = '{GOOD}'",
    )
    again = dag.test(logical_date=logical + timedelta(seconds=1), run_conf=conf)
    assert again.state == "success"  # a plain rerun: the batch is loaded, skipped
    assert query(warehouse, "SELECT count(*) AS n FROM bronze.br_trade").n[0] == before
    reload = dag.test(
        logical_date=logical + timedelta(seconds=2), run_conf={**conf, "reload": True}
    )
    assert reload.state == "success"
    assert query(warehouse, "SELECT count(*) AS n FROM bronze.br_trade").n[0] == 2 * before


def test_a_run_that_accepts_a_partial_day_does_not_wait_for_the_day_to_end(
    demo, monkeypatch
) -> None:
    """Today is not over, so bronze's loads would wait for it; with {"accept_partial":
    true} in the run's conf they load what is there now, recorded as partial."""
    from src.orchestration.local_airflow import ensure_metadata_db, load_dag

    warehouse, source, landing = demo
    today = datetime.now(UTC).date()
    generate_day(source, landing, today, SPEC)
    monkeypatch.setenv("MEDALLION_SOURCE_WAIT", "2")  # a wait would fail the run
    monkeypatch.setenv("MEDALLION_SOURCE_POKE", "1")
    ensure_metadata_db()
    dag = load_dag("demo_bronze")
    conf = {"date": today.isoformat(), "engine": "postgres"}
    logical = datetime(2026, 11, 19, tzinfo=UTC)
    waited = dag.test(logical_date=logical, run_conf=conf)
    states = {
        t.task_id: str(getattr(t.state, "value", t.state)) for t in waited.get_task_instances()
    }
    assert states["trade_to_bronze"] == "failed"  # the day is not over: it waited, in vain
    accepted = dag.test(
        logical_date=logical + timedelta(seconds=1), run_conf={**conf, "accept_partial": True}
    )
    assert accepted.state == "success"
    logged = query(
        warehouse,
        "SELECT accepted FROM medallion.load_log WHERE job = 'trade_to_bronze'"
        f" AND logical_date = '{today}' AND status = 'succeeded'",
    )
    assert logged.accepted[0].startswith("partial day: loaded at ")

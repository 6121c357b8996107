"""The layer DAGs of a project with tenants: a task group per tenant, per-tenant assets,
and a tenant whose load fails stops its own tasks only (real Airflow, dag.test())."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from src.orchestration.local_airflow import ensure_metadata_db, load_dag
from src.utils.pg_binaries import free_port
from tests.conftest import TENANT_DAYS as DAYS
from tests.conftest import run_sql

pytestmark = pytest.mark.postgres


def run(dag_id: str, day, **conf) -> dict[str, str]:
    ensure_metadata_db()
    dag = load_dag(dag_id)
    logical = datetime(day.year, day.month, day.day, tzinfo=UTC)
    dag_run = dag.test(
        logical_date=logical, run_conf={"date": day.isoformat(), "engine": "postgres", **conf}
    )
    return {
        ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dag_run.get_task_instances()
    }


def test_each_tenant_is_a_task_group_with_an_asset_of_its_own(tenant_demo) -> None:
    bronze, silver = load_dag("demo_bronze"), load_dag("demo_silver")
    ids = set(bronze.task_ids)
    assert {"acme.trade_to_bronze", "globex.trade_to_bronze", "acme.bronze_published"} <= ids
    assert not any("." not in task_id for task_id in ids)  # the project's own: not run
    outlets = [a.uri for a in bronze.get_task("globex.bronze_published").outlets]
    assert outlets == ["medallion://demo/bronze/globex"]
    assert "medallion://demo/bronze/acme" in repr(silver.timetable)
    checks = bronze.get_task("acme.dq_trade_row_count").rules
    assert "tenant_acme_bronze.br_trade" in repr(checks) and "globex" not in repr(checks)


def test_a_failed_tenant_stops_its_own_tasks_only(tenant_demo, monkeypatch) -> None:
    states = run("demo_bronze", DAYS[0])
    assert set(states.values()) == {"success"}
    monkeypatch.setenv(
        "MEDALLION_SOURCE__OPERATIONAL__GLOBEX__URL", f"postgresql://etl@127.0.0.1:{free_port()}/x"
    )
    monkeypatch.setenv("MEDALLION_SOURCE_WAIT", "2")  # globex's loads wait 2 s for it
    monkeypatch.setenv("MEDALLION_SOURCE_POKE", "1")
    states = run("demo_bronze", DAYS[1])
    assert states["acme.trade_to_bronze"] == "success"
    assert states["acme.bronze_published"] == "success"
    assert states["globex.trade_to_bronze"] == "failed"  # timed out, naming the source
    assert states["globex.dq_trade_row_count"] == "upstream_failed"
    assert states["globex.bronze_published"] in ("upstream_failed", "skipped")
    # a run for one tenant leaves the other's tasks skipped
    states = run("demo_silver", DAYS[0], tenant="acme")
    assert states["acme.trade_to_silver"] == "success"
    assert states["globex.trade_to_silver"] == "skipped"
    trades = run_sql(tenant_demo, "SELECT count(*) FROM tenant_acme_silver.trade")
    assert trades[0][0] > 0
    assert run_sql(tenant_demo, "SELECT count(*) FROM tenant_globex_silver.trade") == [(0,)]

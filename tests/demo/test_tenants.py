"""The demo run per tenant: each tenant's day in its own schemas, from the same code; one
tenant's failure leaves the others' runs alone, and a rerun catches it up."""

from __future__ import annotations

from datetime import date

import pytest

from scripts import run_pipeline
from src.config import ConnectionSettings
from src.utils.pg_binaries import free_port
from tests.conftest import TENANT_DAYS as DAYS
from tests.conftest import run_sql

pytestmark = pytest.mark.postgres


def loaded(warehouse: ConnectionSettings, day: date) -> list[str]:
    rows = run_sql(
        warehouse,
        "SELECT job FROM medallion.load_log WHERE status = 'succeeded' AND logical_date = %s "
        "AND job LIKE 'trade_to_silver%%' ORDER BY 1",
        (day,),
    )
    return [job for (job,) in rows]


def digest(warehouse: ConnectionSettings, table: str) -> tuple:
    row = "(to_jsonb(t))::text"
    return run_sql(
        warehouse, f"SELECT count(*), md5(string_agg({row}, '|' ORDER BY {row})) FROM {table} t"
    )[0]


def test_each_tenant_runs_in_its_schemas_and_a_failed_tenant_blocks_no_other(
    tenant_demo, monkeypatch, caplog, capsys
) -> None:
    warehouse = tenant_demo
    run = ["demo", "--engine", "postgres", "--tenant", "all", "--date"]
    assert run_pipeline.main([*run, DAYS[0].isoformat()]) == 0
    assert "tenant acme:" in capsys.readouterr().out
    assert loaded(warehouse, DAYS[0]) == ["trade_to_silver__acme", "trade_to_silver__globex"]
    assert run_sql(warehouse, "SELECT count(*) FROM silver.trade") == [(0,)]  # not a tenant's

    # globex's source is down on the second day: acme's day still loads
    down = f"postgresql://etl@127.0.0.1:{free_port()}/erp"
    monkeypatch.setenv("MEDALLION_SOURCE__OPERATIONAL__GLOBEX__URL", down)
    assert run_pipeline.main([*run, DAYS[1].isoformat()]) == 1
    assert "Failed tenant run(s): demo/globex" in caplog.text
    assert "source 'operational' (postgres, etl@127.0.0.1:" in caplog.text
    assert "from the environment (MEDALLION_SOURCE__OPERATIONAL__GLOBEX__*)) is unreachable" in (
        caplog.text
    )
    assert loaded(warehouse, DAYS[1]) == ["trade_to_silver__acme"]

    # back up: a rerun of that tenant catches it up, to the same data as the other's
    monkeypatch.delenv("MEDALLION_SOURCE__OPERATIONAL__GLOBEX__URL")
    again = ["demo", "--engine", "postgres", "--tenant", "globex", "--date", DAYS[1].isoformat()]
    assert run_pipeline.main(again) == 0
    assert loaded(warehouse, DAYS[1]) == ["trade_to_silver__acme", "trade_to_silver__globex"]
    for table in ("silver.trade_status_hist", "silver.instrument_hist", "gold.position_eod_hist"):
        acme, globex = (digest(warehouse, f"tenant_{t}_{table}") for t in ("acme", "globex"))
        assert acme == globex and acme[0] > 0, table


def test_an_undeclared_tenant_is_refused(tenant_demo, caplog) -> None:
    argv = ["demo", "bronze", "--engine", "postgres", "--tenant", "acmee", "--date", "2026-11-19"]
    assert run_pipeline.main(argv) == 1
    assert "Project demo declares no tenant 'acmee' (declared: acme, globex)" in caplog.text


def test_a_tenant_runs_on_spark_as_on_postgres(tenant_demo, spark) -> None:
    warehouse = tenant_demo
    day = DAYS[0].isoformat()
    spark_run = ["demo", "bronze", "silver", "--engine", "spark", "--tenant", "acme"]
    assert run_pipeline.main([*spark_run, "--date", day]) == 0
    postgres_run = ["demo", "bronze", "silver", "--engine", "postgres", "--tenant", "globex"]
    assert run_pipeline.main([*postgres_run, "--date", day]) == 0
    for table in ("silver.trade", "silver.instrument_hist", "silver.quarantine"):
        acme, globex = (
            run_sql(warehouse, f"SELECT count(*) FROM tenant_{t}_{table}")
            for t in ("acme", "globex")
        )
        assert acme == globex and acme[0][0] > 0, table

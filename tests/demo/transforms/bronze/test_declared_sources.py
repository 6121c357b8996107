"""Declared sources read by the demo's bronze loads: another server, an unreachable one."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import date

import pytest

from src._base.pipeline.catalogue import load_transform
from src._base.sources.resolve import project_sources
from src.config import SRC_PATH, ConnectionSettings, load_settings
from src.demo.generator import SourceSpec, generate_day
from src.utils.connections import execute_autocommit
from src.utils.errors import PipelineError
from src.utils.pg_binaries import free_port
from tests.conftest import run_sql

DAY = date(2026, 11, 20)


# --- a bronze load from another server ------------------------------------------------


@pytest.fixture
def erp_on_second_server(second_server, tmp_path) -> tuple[ConnectionSettings, str]:
    """The demo's operational database on another server, read by a role with a password."""
    name, role, password = (
        f"erp_{uuid.uuid4().hex[:8]}",
        f"reader_{uuid.uuid4().hex[:6]}",
        (secrets.token_urlsafe(12)),
    )
    execute_autocommit(second_server, f'CREATE DATABASE "{name}"')
    generate_day(second_server.with_database(name), tmp_path / "unused", DAY, SourceSpec())
    execute_autocommit(second_server, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    run_sql(
        second_server.with_database(name),
        f"GRANT USAGE ON SCHEMA ops TO {role}",
        before=((f"GRANT SELECT ON ALL TABLES IN SCHEMA ops TO {role}", None),),
    )
    yield second_server.with_database(name), f"postgresql://{role}:{password}@127.0.0.1:" + (
        f"{second_server.port}/{name}"
    )
    execute_autocommit(second_server, f'DROP DATABASE "{name}" WITH (FORCE)')
    execute_autocommit(second_server, f"DROP ROLE {role}")


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_a_bronze_load_reads_a_source_on_another_server_with_a_password(
    demo_env, erp_on_second_server, monkeypatch, request, engine, caplog
) -> None:
    erp, url = erp_on_second_server
    monkeypatch.setenv("MEDALLION_SOURCE__OPERATIONAL__URL", url)
    sources = project_sources(load_settings(None), demo_env.warehouse, "demo")
    assert sources["operational"].target.database == erp.database
    cfg = replace(demo_env.config(DAY), engine=engine, sources=sources)
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    load_transform(SRC_PATH, "demo", "bronze", "instrument_to_bronze").run(spark, cfg)
    [(expected,)] = run_sql(erp, "SELECT count(*) FROM ops.instrument")
    assert run_sql(demo_env.warehouse, "SELECT count(*) FROM bronze.br_instrument") == [(expected,)]
    labels = run_sql(demo_env.warehouse, "SELECT DISTINCT source FROM bronze.br_instrument")
    assert labels == [(f"{erp.database}.ops.instrument",)]
    assert url.split(":")[2].split("@")[0] not in caplog.text  # the password


def test_an_unreachable_source_fails_the_load_naming_it_and_its_setting(
    demo_env, monkeypatch
) -> None:
    port = free_port()
    monkeypatch.setenv(
        "MEDALLION_SOURCE__OPERATIONAL__URL", f"postgresql://etl:pw-9@127.0.0.1:{port}/erp"
    )
    sources = project_sources(load_settings(None), demo_env.warehouse, "demo")
    cfg = replace(demo_env.config(DAY), engine="postgres", sources=sources)
    with pytest.raises(PipelineError) as caught:
        load_transform(SRC_PATH, "demo", "bronze", "trade_to_bronze").run(None, cfg)
    message = str(caught.value)
    assert message.startswith(
        f"trade_to_bronze: source 'operational' (postgres, etl@127.0.0.1:{port}/erp, from the "
        "environment (MEDALLION_SOURCE__OPERATIONAL__*)) is unreachable: "
    )
    assert "Fix: set MEDALLION_SOURCE__OPERATIONAL__{URL/HOST/PORT/USER/PASSWORD/DATABASE}" in (
        message
    )
    assert "pw-9" not in message

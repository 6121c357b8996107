from __future__ import annotations

import uuid
from datetime import date

import pytest

from scripts import clean_loads
from src._base.functions.system_time import framework_ddl
from src._base.pipeline.claims import stage_comment, stage_table
from src.config import ConnectionSettings
from src.utils.connections import connect_raw, execute_autocommit

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 20)


def sql(conn: ConnectionSettings, *statements: str) -> list[tuple]:
    raw = connect_raw(conn)
    try:
        with raw, raw.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        raw.close()


def crashed_warehouse(server: ConnectionSettings, name: str) -> ConnectionSettings:
    """A built database whose x_to_gold load died mid-run: 'running', a staging table left."""
    execute_autocommit(server, f'CREATE DATABASE "{name}"')
    conn = server.with_database(name)
    table = stage_table("x_to_gold", DAY, "snapshot")
    sql(
        conn,
        *framework_ddl(),
        "INSERT INTO medallion.load_log (job, logical_date, batch_id, status)"
        f" VALUES ('x_to_gold', '{DAY}', '{uuid.uuid4()}', 'running')",
        f"CREATE UNLOGGED TABLE {table} (v int)",
        f"COMMENT ON TABLE {table} IS '{stage_comment('x_to_gold', DAY)}'",
    )
    return conn


def test_dead_loads_are_failed_and_their_leftovers_dropped(
    make_project, use_test_server, capsys
) -> None:
    project = make_project()
    conn = crashed_warehouse(use_test_server, project.name)
    assert clean_loads.main([project.name]) == 0
    out = capsys.readouterr().out
    assert f"{project.name}: x_to_gold for 2026-11-20: was running, process died" in out
    assert f"dropped staging table {stage_table('x_to_gold', DAY, 'snapshot')}" in out
    [(status, message)] = sql(conn, "SELECT status, message FROM medallion.load_log")
    assert status == "failed" and message.startswith("process died")
    assert clean_loads.main([project.name]) == 0
    assert capsys.readouterr().out == f"{project.name}: nothing to clean\n"


def test_every_project_by_default_and_unbuilt_ones_are_said_so(make_project, capsys) -> None:
    project = make_project()
    assert clean_loads.main([]) == 0
    assert capsys.readouterr().out == f"{project.name}: not built yet, nothing to clean\n"


def test_an_unknown_database_is_named(make_project, caplog) -> None:
    project = make_project()
    assert clean_loads.main([project.name + "x"]) == 1
    assert f"Unknown database '{project.name}x'. Did you mean '{project.name}'?" in caplog.text

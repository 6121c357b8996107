"""End to end: the build scripts on a real PostgreSQL, happy and bad paths."""

from __future__ import annotations

import re
import time

import pytest

from scripts import (
    build_databases,
    build_reference_data,
    build_schemas,
    build_tables,
    orchestrate_build,
)
from src.config import ConnectionSettings
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.pg_binaries import free_port
from tests.conftest import Project

pytestmark = pytest.mark.postgres


def report_counts(out: str) -> dict[str, tuple[int, int, int]]:
    counts = {}
    for line in out.splitlines():
        match = re.match(r"^(\w+)\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+s$", line)
        if match:
            counts[match.group(1)] = tuple(int(g) for g in match.groups()[1:])
    return counts


def query(pg_server: ConnectionSettings, database: str, sql: str) -> list[tuple]:
    conn = connect_raw(pg_server, database)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
    finally:
        conn.commit()
        conn.close()


def test_build_from_scratch_then_idempotent_second_run(
    make_project, pg_server: ConnectionSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    project: Project = make_project()
    project.write(
        "data/common.py",
        f"from {project.package}.{project.name}.tables.common.kind0000_type import Kind0000Type\n"
        "REFERENCE_DATA = {Kind0000Type: [{'kind0000_type_id': 1, 'code': 'A'},"
        " {'kind0000_type_id': 2, 'code': 'B'}]}\n",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 0
    first = report_counts(capsys.readouterr().out)
    assert first["tables"] == (11, 0, 0)
    assert first["reference_data"] == (2, 0, 0)
    triggers = query(
        pg_server, project.name, "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
    )
    assert triggers == [(18,)]  # nine per temporal table
    query(
        pg_server, project.name, "INSERT INTO silver.thing0000 (thing_code, name) VALUES ('x', 'y')"
    )

    assert orchestrate_build.main(["postgres", project.name]) == 0
    second = report_counts(capsys.readouterr().out)
    assert all(created == 0 and failed == 0 for created, _, failed in second.values())
    assert second["tables"] == (0, 11, 0)
    assert query(pg_server, project.name, "SELECT count(*) FROM silver.thing0000") == [(1,)]


def test_a_build_replaces_triggers_an_earlier_version_named_otherwise(
    make_project, pg_server: ConnectionSettings
) -> None:
    """A warehouse built by the version whose update trigger had no WHEN clause: the build
    drops it and adds the checked and stamped pair, and updates version as before."""
    project: Project = make_project()
    assert orchestrate_build.main(["postgres", project.name]) == 0
    table = "silver.thing0000_hist"
    query(
        pg_server,
        project.name,
        f"DROP TRIGGER versioning_b_check_update ON {table}; "
        f"DROP TRIGGER versioning_c_stamp ON {table}; "
        f"DROP TRIGGER versioning_c_stamp_at ON {table}; "
        f"CREATE TRIGGER versioning_before_update BEFORE UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION silver.thing0000_hist__before_update()",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 0
    names = query(
        pg_server,
        project.name,
        f"SELECT tgname FROM pg_trigger WHERE tgrelid = '{table}'::regclass "
        "AND (tgname LIKE '%update%' OR tgname LIKE '%stamp%') ORDER BY tgname",
    )
    assert [n for (n,) in names] == [
        "versioning_after_update",
        "versioning_b_check_update",
        "versioning_c_stamp",
        "versioning_c_stamp_at",
    ]
    query(
        pg_server, project.name, "INSERT INTO silver.thing0000 (thing_code, name) VALUES ('x', 'y')"
    )
    query(pg_server, project.name, "UPDATE silver.thing0000 SET name = 'z' WHERE thing_code = 'x'")
    versions = query(
        pg_server,
        project.name,
        f"SELECT name, sys_start < sys_end, sys_end = 'infinity' FROM {table} ORDER BY sys_start",
    )
    assert versions == [("y", True, False), ("z", True, True)]


def test_each_script_works_on_its_own_in_order(make_project, pg_server) -> None:
    project: Project = make_project()
    assert build_tables.main(["postgres", project.name]) == 1  # no database yet
    for script in (build_databases, build_schemas, build_tables, build_reference_data):
        assert script.main(["postgres", project.name, "WARNING"]) == 0
    tables = query(
        pg_server, project.name, "SELECT count(*) FROM pg_tables WHERE schemaname = 'silver'"
    )
    assert tables == [(8,)]


def test_unknown_database_suggests_the_closest(make_project, caplog) -> None:
    project: Project = make_project()
    assert orchestrate_build.main(["postgres", project.name + "x"]) == 1
    assert f"Did you mean '{project.name}'?" in caplog.text


def test_broken_model_module_is_named_with_its_line(make_project, caplog) -> None:
    project: Project = make_project()
    project.write("tables/silver/broken.py", "from sqlmodel import Field\n\nx = Fieldd()\n")
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert "tables/silver/broken.py line 3: NameError" in caplog.text


def test_foreign_key_cycle_names_the_tables(make_project, caplog) -> None:
    project: Project = make_project()
    for me, other in (("aaa", "bbb"), ("bbb", "aaa")):
        project.write(
            f"tables/silver/{me}.py",
            "import uuid\nfrom sqlmodel import Field\n"
            "from src._base.tables.table_type_mixins import TransactionalTableBase\n\n"
            f"class {me.capitalize()}(TransactionalTableBase, table=True):\n"
            "    __table_args__ = {'schema': 'silver'}\n"
            f"    {other}_id: uuid.UUID = Field(foreign_key='silver.{other}.{other}_id')\n",
        )
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert re.search(r"cycle: silver\.(aaa|bbb) -> silver\.(aaa|bbb) -> silver", caplog.text)


def test_bad_reference_rows_are_rejected_and_good_ones_kept(
    make_project, pg_server, caplog
) -> None:
    project: Project = make_project()
    project.write(
        "data/common.py",
        f"from {project.package}.{project.name}.tables.common.kind0001_type import Kind0001Type\n"
        "REFERENCE_DATA = {Kind0001Type: [\n"
        "  {'kind0001_type_id': 1, 'code': 'GOOD'},\n"
        "  {'kind0001_type_id': 2, 'code': 'GOOD'},\n"  # unique violation
        "  {'kind0001_type_id': 4, 'code': 'D'},\n"
        "]}\n",
    )  # rows of the wrong type never get here: tests/_base/build/test_definitions.py
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert "1 row(s) rejected, the other rows kept" in caplog.text
    assert "rejected silver" not in caplog.text
    assert re.search(r"kind0001_type \(kind0001_type_id=2\): duplicate key", caplog.text)
    rows = query(pg_server, project.name, "SELECT code FROM common.kind0001_type ORDER BY 1")
    assert rows == [("D",), ("GOOD",)]


def test_failure_mid_build_leaves_nothing_half_built(make_project, pg_server, caplog) -> None:
    project: Project = make_project()
    project.write(
        "tables/silver/zzz_broken.py",
        "from sqlalchemy import text\nfrom sqlmodel import Field\n"
        "from src._base.tables.table_type_mixins import TransactionalTableBase\n\n"
        "class ZzzBroken(TransactionalTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'silver'}\n"
        "    n: int = Field(sa_column_kwargs={'server_default': text('no_such_function()')})\n",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert "no_such_function" in caplog.text and "rolled back" in caplog.text
    tables = query(
        pg_server, project.name, "SELECT count(*) FROM pg_tables WHERE schemaname = 'silver'"
    )
    assert tables == [(0,)]


def test_drift_is_reported_with_the_difference(make_project, pg_server, caplog) -> None:
    project: Project = make_project()
    assert orchestrate_build.main(["postgres", project.name]) == 0
    query(pg_server, project.name, "ALTER TABLE silver.entity0003 ADD COLUMN extra int")
    query(pg_server, project.name, "ALTER TABLE silver.entity0002 DROP COLUMN amount")
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert "drift in silver.entity0003: column extra is in the database but not in the model" in (
        caplog.text
    )
    assert "drift in silver.entity0002: column amount is in the model but not" in caplog.text
    assert (
        f"write a migration (uv run python scripts/migrate.py {project.name} revision "
        "--autogenerate" in caplog.text
    )
    assert f"scripts/orchestrate_build.py postgres {project.name} --rebuild" in caplog.text


def test_rebuild_drops_and_recreates_on_a_local_server(make_project, pg_server, caplog) -> None:
    project: Project = make_project()
    assert orchestrate_build.main(["postgres", project.name]) == 0
    query(
        pg_server, project.name, "INSERT INTO silver.thing0001 (thing_code, name) VALUES ('a', 'b')"
    )
    assert orchestrate_build.main(["postgres", project.name, "--rebuild"]) == 0
    assert f"dropping database(s) {project.name}" in caplog.text
    assert query(pg_server, project.name, "SELECT count(*) FROM silver.thing0001") == [(0,)]


def test_rebuild_refuses_a_remote_server_unless_confirmed(make_project, monkeypatch) -> None:
    from src._base.build.cli import rebuild
    from src._base.build.steps import BuildContext
    from src.config import load_settings
    from src.utils.errors import ConfigError

    project: Project = make_project()
    remote = ConnectionSettings("warehouse.example.com", 5432, "etl", "postgres")
    context = BuildContext(conn=remote, src_path=project.src)
    with pytest.raises(ConfigError, match=f"would drop database\\(s\\) {project.name}"):
        rebuild(context, project.name, 1, load_settings(None))


def test_conventions_are_checked_and_every_violation_listed(make_project, caplog) -> None:
    project: Project = make_project()
    project.write(
        "tables/silver/bad_things.py",
        "from sqlmodel import Field\n"
        "from src._base.tables.table_type_mixins import ReferenceTableBase, TemporalTableBase\n\n"
        "class StatusKind(ReferenceTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'silver'}\n"
        "    code: str\n\n"
        "class Widget(TemporalTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'gold'}\n"
        "    widget_id: int = Field(primary_key=True)\n",
    )
    orchestrate_build.main(["postgres", project.name])
    assert "reference table's name must end in '_type'" in caplog.text
    assert "temporal table's name must end in '_hist'" in caplog.text
    assert "schema 'gold' is not declared" in caplog.text


def test_unreachable_server_fails_fast(make_project, monkeypatch, caplog) -> None:
    project: Project = make_project()
    monkeypatch.setenv("PGPORT", str(free_port()))
    started = time.monotonic()
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert time.monotonic() - started < 10
    assert "Cannot reach PostgreSQL" in caplog.text


def test_wrong_password_is_reported(make_project, monkeypatch, pg_server, caplog) -> None:
    if pg_server.password is None:
        pytest.skip("server without passwords")
    project: Project = make_project()
    monkeypatch.setenv("PGPASSWORD", "wrong-password")
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert "refused the password" in caplog.text and "wrong-password" not in caplog.text


def test_other_engines_are_refused(make_project, caplog) -> None:
    make_project()
    assert orchestrate_build.main(["snowflake"]) == 1
    assert "Unknown engine_type 'snowflake'" in caplog.text


def test_demo_project_builds(throwaway_server: ConnectionSettings) -> None:
    pg_server = throwaway_server
    execute_autocommit(pg_server, "DROP DATABASE IF EXISTS demo WITH (FORCE)")
    try:
        assert orchestrate_build.main(["postgres", "demo", "WARNING"]) == 0
        codes = query(pg_server, "demo", "SELECT code FROM common.trade_status_type ORDER BY 1")
        assert ("FILLED",) in codes
        assert query(pg_server, "demo", "SELECT count(*) FROM silver.instrument") == [(0,)]
    finally:
        execute_autocommit(pg_server, "DROP DATABASE IF EXISTS demo WITH (FORCE)")


def test_outdated_trigger_functions_are_replaced(make_project, pg_server, capsys) -> None:
    project: Project = make_project(reference=0, transactional=0, temporal=1)
    assert orchestrate_build.main(["postgres", project.name]) == 0
    capsys.readouterr()
    query(
        pg_server,
        project.name,
        "CREATE OR REPLACE FUNCTION silver.thing0000_hist__after_update() RETURNS trigger "
        "LANGUAGE plpgsql AS $fn$ BEGIN RETURN NULL; END $fn$",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 0
    assert report_counts(capsys.readouterr().out)["tables"] == (1, 0, 0)
    source = query(
        pg_server,
        project.name,
        "SELECT prosrc FROM pg_proc WHERE proname = 'thing0000_hist__after_update'",
    )
    assert "INSERT INTO" in source[0][0]
    assert orchestrate_build.main(["postgres", project.name]) == 0
    assert report_counts(capsys.readouterr().out)["tables"] == (0, 1, 0)


def test_a_role_that_cannot_create_databases_gets_a_report_not_a_traceback(
    make_project, pg_server, monkeypatch, caplog, capsys
) -> None:
    project: Project = make_project()
    role = f"reader_{project.name}"
    execute_autocommit(pg_server, f"CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'")
    monkeypatch.setenv("PGUSER", role)
    monkeypatch.setenv("PGPASSWORD", "reader-pw")
    try:
        assert orchestrate_build.main(["postgres", project.name]) == 1
    finally:
        execute_autocommit(pg_server, f"DROP ROLE {role}")
    assert "permission denied to create database" in caplog.text
    assert "Build FAILED" in capsys.readouterr().out
    assert "reader-pw" not in caplog.text

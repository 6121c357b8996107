"""Tenants: the project's layers copied into each tenant's schemas, each reachable by
that tenant's role only (proven by connecting as each)."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from scripts import orchestrate_build
from src._base.build.roles import tenant_role
from src.config import ConnectionSettings, read_pgpass
from src.utils.connections import connect_raw
from tests.conftest import Project, run_sql

pytestmark = pytest.mark.postgres


def with_tenants(project: Project, tenants: str) -> None:
    project.write(
        f"{project.name}.py",
        "from src._base.build.project import DatabaseProject\n"
        f"DATABASE = DatabaseProject(name={project.name!r}, tenants={tenants})\n",
    )


def as_tenant(server: ConnectionSettings, project: Project, tenant: str, passfile):
    role = tenant_role(project.name, tenant)
    password = read_pgpass(passfile, server.host, server.port, project.name, role)
    assert password is not None, "the build keeps the role's password in the passfile"
    conn = ConnectionSettings(server.host, server.port, role, project.name, password=password)
    return connect_raw(conn)


def denied(raw, sql: str) -> bool:
    try:
        with raw.cursor() as cur:
            cur.execute(sql)
    except psycopg2.errors.InsufficientPrivilege:
        raw.rollback()
        return True
    raw.rollback()
    return False


def test_each_tenant_reads_and_writes_its_own_schemas_only(
    make_project, pg_server, tmp_path, capsys
) -> None:
    project: Project = make_project(reference=1, transactional=2, temporal=1)
    with_tenants(project, "('acme', 'globex')")
    assert orchestrate_build.main(["postgres", project.name]) == 0
    out = capsys.readouterr().out
    assert "tenant_roles" in out
    database = pg_server.with_database(project.name)
    tables = run_sql(
        database,
        "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname LIKE "
        "'tenant_%' ORDER BY 1",
    )
    assert [t for (t,) in tables] == [
        f"tenant_{t}_silver.{name}"
        for t in ("acme", "globex")
        for name in ("entity0000", "entity0001", "thing0000_hist")
    ]
    run_sql(database, "INSERT INTO common.kind0000_type (kind0000_type_id, code) VALUES (1, 'A')")
    passfile = tmp_path / "api-pgpass"
    acme = as_tenant(pg_server, project, "acme", passfile)
    globex = as_tenant(pg_server, project, "globex", passfile)
    try:
        with acme.cursor() as cur:  # its own tables: writes, history kept by the triggers
            # a key into the shared reference table holds, though the tenant cannot read it
            cur.execute(
                "INSERT INTO tenant_acme_silver.entity0000 (label, kind0000_type_id) "
                "VALUES ('a', 1)"
            )
            cur.execute(
                "INSERT INTO tenant_acme_silver.thing0000_hist (thing_code, name) VALUES ('x', '1')"
            )
        acme.commit()
        with acme.cursor() as cur:
            cur.execute("UPDATE tenant_acme_silver.thing0000 SET name = '2' WHERE thing_code = 'x'")
            cur.execute("SELECT count(*) FROM tenant_acme_silver.thing0000_hist")
            assert cur.fetchone() == (2,)
        acme.commit()
        for sql in (
            "SELECT * FROM tenant_globex_silver.entity0000",
            "INSERT INTO tenant_globex_silver.entity0000 (label, kind0000_type_id) VALUES ('b', 1)",
            "SELECT * FROM medallion.load_log",
            "SELECT * FROM silver.entity0000",
            "SELECT * FROM common.kind0000_type",
        ):
            assert denied(acme, sql), sql
        assert denied(globex, "SELECT * FROM tenant_acme_silver.entity0000")
        with globex.cursor() as cur:
            cur.execute("SELECT count(*) FROM tenant_globex_silver.entity0000")
            assert cur.fetchone() == (0,)
    finally:
        acme.close()
        globex.close()
    # a second build changes nothing and keeps the passwords
    assert orchestrate_build.main(["postgres", project.name]) == 0
    assert "Build SUCCESS" in capsys.readouterr().out
    assert as_tenant(pg_server, project, "acme", passfile).close() is None


def test_a_bad_tenant_name_is_a_definition_error(make_project, caplog) -> None:
    project: Project = make_project(reference=1, transactional=0, temporal=0)
    with_tenants(project, "('Acme Corp',)")
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert "Tenant 'Acme Corp' (tenants= in " in caplog.text

"""scripts/connections.py: store, list, test and rotate a project's source settings;
no secret ever reaches the command line, the output or the log."""

from __future__ import annotations

import io
import secrets
import uuid

import pytest

from scripts import connections, orchestrate_build
from src.utils.connections import execute_autocommit
from src.utils.pg_binaries import free_port
from tests.conftest import Project, run_sql

pytestmark = pytest.mark.postgres

MARKER = (
    "from src._base.build.project import DatabaseProject\n"
    "from src._base.sources.declared import PostgresSource, LandingSource\n\n"
    "DATABASE = DatabaseProject(name={name!r}, sources=(PostgresSource('erp'), "
    "LandingSource('drops', path='drops')))\n"
)


@pytest.fixture
def project(make_project, tmp_path, monkeypatch) -> Project:
    made: Project = make_project(reference=1, transactional=1, temporal=0)
    made.write(f"{made.name}.py", MARKER.format(name=made.name))
    assert orchestrate_build.main(["postgres", made.name]) == 0
    monkeypatch.setenv("MEDALLION_CONNECTIONS_KEY_FILE", str(tmp_path / "connections.key"))
    return made


@pytest.fixture
def reader(second_server):
    role, password = f"reader_{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(16)
    execute_autocommit(second_server, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    yield role, password
    execute_autocommit(second_server, f"DROP ROLE {role}")


def run(argv: list[str], monkeypatch, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return connections.main(argv)


def test_add_list_test_rotate_without_a_secret_anywhere(
    project, reader, second_server, pg_server, tmp_path, monkeypatch, capsys, caplog
) -> None:
    role, password = reader
    key_file = tmp_path / "connections.key"
    assert run(["keygen", str(key_file)], monkeypatch) == 0
    assert key_file.stat().st_mode & 0o777 == 0o600
    settings = ["--set", "host=127.0.0.1", "--set", f"port={second_server.port}"]
    settings += ["--set", f"user={role}", "--set", "database=postgres"]
    add = ["add", "erp", "--kind", "postgres", "--database", project.name, *settings]
    assert run(add, monkeypatch, stdin=f"password={password}\n") == 0

    assert run(["list", "--database", project.name], monkeypatch) == 0
    listed = capsys.readouterr().out
    assert f"erp\tpostgres\tdatabase=postgres, host=127.0.0.1, port={second_server.port}" in listed
    assert "secrets: password" in listed

    monkeypatch.setenv("MEDALLION_SOURCE__DROPS__PATH", str(tmp_path))
    assert run(["test", "--database", project.name], monkeypatch) == 0
    tested = capsys.readouterr().out
    assert f"erp\tpostgres\t{role}@127.0.0.1:{second_server.port}/postgres\t(from the " in tested
    assert "connections store)\treachable" in tested
    assert f"drops\tlanding\t{tmp_path}\t(from the environment" in tested

    # rotation: a new key first, re-encrypt, drop the old key: the source still opens
    assert run(["keygen", str(key_file)], monkeypatch) == 0
    assert run(["rotate", "--database", project.name], monkeypatch) == 0
    key_file.write_text(key_file.read_text().splitlines()[0] + "\n")
    assert run(["test", "erp", "--database", project.name], monkeypatch) == 0
    assert "reachable" in capsys.readouterr().out
    stored = run_sql(pg_server.with_database(project.name), "SELECT secret::text, settings::text "
                     "FROM medallion.source_connection")  # fmt: skip
    everything = capsys.readouterr().out + capsys.readouterr().err + caplog.text + repr(stored)
    assert password not in everything


def test_an_unreachable_source_and_bad_input_are_reported(
    project, tmp_path, monkeypatch, capsys, caplog
) -> None:
    assert run(["keygen", str(tmp_path / "connections.key")], monkeypatch) == 0
    port = free_port()
    add = ["add", "erp", "--kind", "postgres", "--database", project.name]
    add += ["--set", "host=127.0.0.1", "--set", f"port={port}", "--set", "user=etl"]
    assert run(add, monkeypatch, stdin="password=hunter2-x\n") == 0
    assert run(["test", "erp", "--database", project.name], monkeypatch) == 1
    out = capsys.readouterr().out
    assert f"erp\tpostgres\tetl@127.0.0.1:{port}/" in out and "UNREACHABLE: " in out
    # a secret on the command line is refused before anything is stored
    assert run([*add, "--set", "password=oops"], monkeypatch) == 1
    assert "secrets never go on the command line" in caplog.text
    assert run(["add", "nope", "--kind", "postgres", "--database", project.name], monkeypatch) == 1
    assert f"Project {project.name} declares no source 'nope' (declared: drops, erp)" in caplog.text
    assert run(["add", "erp", "--kind", "landing", "--database", project.name], monkeypatch) == 1
    assert "Source 'erp' is declared postgres, not landing." in caplog.text
    tenant = ["add", "erp", "--kind", "postgres", "--tenant", "acme", "--database", project.name]
    assert run(tenant, monkeypatch) == 1
    assert f"Project {project.name} declares no tenant 'acme' (declared: none)" in caplog.text
    assert "hunter2-x" not in out + caplog.text

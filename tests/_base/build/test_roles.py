"""The build's API role step: made once, kept on rebuilds, a warning where roles cannot be made."""

from __future__ import annotations

import secrets
import stat
import uuid

import pytest
from pydantic import SecretStr

from src._base.build.discovery import load_projects
from src._base.build.report import render_report
from src._base.build.steps import ALL_STEPS, BuildContext, build_in_database, run_steps
from src.config import ConnectionSettings, read_pgpass
from src.utils.connections import execute_autocommit

pytestmark = pytest.mark.postgres


def test_the_build_makes_the_api_role_once(make_project, use_test_server, tmp_path) -> None:
    project = make_project(reference=1, transactional=1, temporal=1)
    passfile = tmp_path / "api" / "pgpass"
    context = BuildContext(use_test_server, project.src, api_passfile=passfile)
    first = {r.step: r for r in run_steps(context, ALL_STEPS, project.name)}
    assert first["api_role"].created == [f"role {project.name}_api"], render_report(
        list(first.values())
    )
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    stored = read_pgpass(passfile, use_test_server.host, use_test_server.port, project.name,
                         f"{project.name}_api")  # fmt: skip
    second = {r.step: r for r in run_steps(context, ALL_STEPS, project.name)}
    assert second["api_role"].present == [f"role {project.name}_api"]
    assert read_pgpass(passfile, use_test_server.host, use_test_server.port, project.name,
                       f"{project.name}_api") == stored  # fmt: skip
    execute_autocommit(use_test_server, f'DROP DATABASE "{project.name}" WITH (FORCE)')
    execute_autocommit(use_test_server, f'DROP ROLE "{project.name}_api"')


def test_a_builder_that_cannot_make_roles_gets_a_warning(
    make_project, use_test_server, tmp_path
) -> None:
    """A managed server's user without CREATEROLE still builds the warehouse."""
    project = make_project(reference=1, transactional=1, temporal=1)
    builder, password = f"builder_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    execute_autocommit(use_test_server, f"CREATE ROLE {builder} LOGIN PASSWORD '{password}'")
    execute_autocommit(use_test_server, f'CREATE DATABASE "{project.name}" OWNER {builder}')
    try:
        as_builder = ConnectionSettings(
            use_test_server.host, use_test_server.port, builder, project.name,
            SecretStr(password),
        )  # fmt: skip
        assert all(r.ok for r in build_in_database(as_builder, project.src, project.name))
        [loaded] = load_projects(project.src, project.name)
        context = BuildContext(as_builder, project.src, api_passfile=tmp_path / "pgpass")
        [result] = [step.run(context, loaded) for step in ALL_STEPS if step.name == "api_role"]
        assert result.ok and not result.created
        [warning] = result.warnings
        assert "permission denied to create role" in warning and "--as-owner" in warning
        assert "Warnings:" in render_report([result])
        assert not (tmp_path / "pgpass").exists()
    finally:
        execute_autocommit(
            use_test_server, f'DROP DATABASE IF EXISTS "{project.name}" WITH (FORCE)'
        )
        execute_autocommit(use_test_server, f"DROP ROLE {builder}")

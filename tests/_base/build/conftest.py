"""Fixtures for build tests: synthetic projects in their own package, wired to the test server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from bench.synthetic_project import write, write_project
from src.config import ConnectionSettings
from src.utils.connections import execute_autocommit


class Project:
    """A synthetic project under a unique package and database name."""

    def __init__(self, root: Path, **sizes: int) -> None:
        token = uuid.uuid4().hex[:8]
        self.package = f"synth_{token}"
        self.name = f"p_{token}"
        self.src = write_project(root, self.package, self.name, **sizes)
        self.folder = self.src / self.name

    def write(self, relative: str, text: str) -> Path:
        return write(self.folder, relative, text)


@pytest.fixture
def make_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server: ConnectionSettings
) -> Iterator[Callable[..., Project]]:
    """Make a project; the build scripts see it (MEDALLION_SRC_PATH) and the test server."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no developer .env
    for var in ("DATABASE_URL", "PGDATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PGHOST", pg_server.host)
    monkeypatch.setenv("PGPORT", str(pg_server.port))
    monkeypatch.setenv("PGUSER", pg_server.user)
    if pg_server.password is not None:
        monkeypatch.setenv("PGPASSWORD", pg_server.password.get_secret_value())
    made: list[Project] = []
    known_tables = set(SQLModel.metadata.tables)

    def _make(**sizes: int) -> Project:
        defaults = {"reference": 3, "transactional": 6, "temporal": 2}
        project = Project(tmp_path, **{**defaults, **sizes})
        monkeypatch.setenv("MEDALLION_SRC_PATH", str(project.src))
        made.append(project)
        return project

    yield _make
    for name in set(SQLModel.metadata.tables) - known_tables:  # synthetic tables only
        SQLModel.metadata.remove(SQLModel.metadata.tables[name])
    for project in made:
        execute_autocommit(pg_server, f'DROP DATABASE IF EXISTS "{project.name}" WITH (FORCE)')

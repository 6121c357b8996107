"""A synthetic project built on the test server, migrated through the real commands.

Model files change between revisions, so every command runs in its own process
(scripts/migrate.py, scripts/orchestrate_build.py, alembic): each imports the classes as
they are on disk, as a user's would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from src._base.functions.system_time import SET_SYSTEM_TIME
from src.config import PROJECT_ROOT, ConnectionSettings
from tests.conftest import Project, run_sql

T1 = datetime(2026, 11, 1, tzinfo=UTC)
T2 = datetime(2026, 11, 2, tzinfo=UTC)
T3 = datetime(2026, 11, 3, tzinfo=UTC)
TEMPORAL = "tables/silver/thing0000_hist.py"


@dataclass
class Migrating:
    project: Project
    server: ConnectionSettings
    env: dict[str, str]

    @property
    def conn(self) -> ConnectionSettings:
        return self.server.with_database(self.project.name)

    def run(
        self, command: list[str], *, ok: bool = True, **env: str
    ) -> subprocess.CompletedProcess:
        done = subprocess.run(
            command, env={**self.env, **env}, capture_output=True, text=True, timeout=180,
            cwd=PROJECT_ROOT,
        )  # fmt: skip
        if ok:
            assert done.returncode == 0, f"{command[1:]} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def migrate(self, *args: str, ok: bool = True, **env: str) -> subprocess.CompletedProcess:
        script = str(PROJECT_ROOT / "scripts" / "migrate.py")
        return self.run([sys.executable, script, self.project.name, *args], ok=ok, **env)

    def build(self, *, ok: bool = True) -> subprocess.CompletedProcess:
        script = str(PROJECT_ROOT / "scripts" / "orchestrate_build.py")
        return self.run([sys.executable, script, "postgres", self.project.name], ok=ok)

    def sql(self, query: str, params: Any = None, *, at: datetime | None = None) -> list[tuple]:
        """Run ``query`` (at system time ``at``), committed; its rows, if any."""
        before = ((f"SELECT {SET_SYSTEM_TIME}(%s)", (at,)),) if at is not None else ()
        return run_sql(self.conn, query, params, before=before)

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.project.folder / relative
        text = path.read_text()
        assert old in text, (old, text)
        path.write_text(text.replace(old, new, 1))

    def revisions(self) -> list[Path]:
        return sorted((self.project.folder / "migrations" / "versions").glob("*.py"))

    def columns(self, relation: str) -> list[str]:
        schema, name = relation.split(".")
        return [
            c
            for (c,) in self.sql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
                " AND table_name = %s ORDER BY ordinal_position",
                (schema, name),
            )
        ]


@pytest.fixture
def migrating(make_project, use_test_server, tmp_path: Path) -> Iterator[Migrating]:
    """A built project (one table of each type) with two versions of key 'a'."""
    project = make_project(reference=1, transactional=1, temporal=1)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MEDALLION_SRC_PATH": str(project.src)}
    found = Migrating(project, use_test_server, env)
    found.build()
    found.sql("INSERT INTO silver.thing0000_hist (thing_code, name, value) VALUES"
              " ('a', 'A', 1), ('b', 'B', 2)", at=T1)  # fmt: skip
    found.sql("UPDATE silver.thing0000_hist SET name = 'A2' WHERE thing_code = 'a'", at=T2)
    yield found

"""Session-wide fixtures: one PostgreSQL server per test session, one database per test.

With PGHOST/PGPORT/DATABASE_URL set, the tests use that server; otherwise they start
a throw-away embedded server (fsync off) on a free port and delete it afterwards.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from bench.synthetic_project import write, write_project
from src._base.tables.projects import forget_project
from src.config import ConnectionSettings, load_settings
from src.orchestration.local_airflow import use_local_airflow
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import EmbeddedPostgres, server_for
from src.utils.pg_binaries import free_port


def run_sql(
    conn: ConnectionSettings, statement: str, params: object = None, *, before: tuple = ()
) -> list[tuple]:
    """Run ``statement`` (after the ``before`` statements, in one transaction) and commit;
    its rows, if it returns any."""
    raw = connect_raw(conn)
    try:
        with raw, raw.cursor() as cur:
            for earlier, earlier_params in before:
                cur.execute(earlier, earlier_params)
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        raw.close()


# Airflow reads its configuration on first import: point it at a throw-away home (SQLite
# metadata, the project's DAG folder) before any test imports it.
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="medallion-airflow-"))
os.environ["MEDALLION_AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["MEDALLION_SPARK_LOG"] = str(AIRFLOW_HOME / "spark.log")  # Spark's console output
use_local_airflow(AIRFLOW_HOME)
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)

FAST_UNSAFE_OPTIONS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectionSettings]:
    """The session's server, as a connection to its ``postgres`` database."""
    home = tmp_path_factory.mktemp("embedded-pg")
    with server_for(load_settings(), home=home, server_options=FAST_UNSAFE_OPTIONS) as conn:
        yield conn


@pytest.fixture(scope="session")
def second_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectionSettings]:
    """Another embedded server (password authentication), for sources on another host."""
    server = EmbeddedPostgres(
        home=tmp_path_factory.mktemp("second-pg"),
        port=free_port(),
        server_options=FAST_UNSAFE_OPTIONS,
    )
    try:
        yield server.start()
    finally:
        server.destroy()


@pytest.fixture
def pg_database(pg_server: ConnectionSettings) -> Iterator[ConnectionSettings]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    execute_autocommit(pg_server, f'CREATE DATABASE "{name}"')
    try:
        yield pg_server.with_database(name)
    finally:
        execute_autocommit(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files (generated DDL) from the current code",
    )


@pytest.fixture
def use_test_server(
    pg_server: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> ConnectionSettings:
    """Point entry points (which read PG* variables) at the session's server; no .env."""
    return point_entry_points_at(pg_server, monkeypatch, tmp_path)


def point_entry_points_at(
    server: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> ConnectionSettings:
    """Entry points (in process, and processes started from here) use ``server``."""
    monkeypatch.chdir(tmp_path)
    for var in ("DATABASE_URL", "PGDATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PGHOST", server.host)
    monkeypatch.setenv("PGPORT", str(server.port))
    monkeypatch.setenv("PGUSER", server.user)
    # the build writes the API role's password here, not into the checkout's .local
    monkeypatch.setenv("MEDALLION_API_PASSFILE", str(tmp_path / "api-pgpass"))
    if server.password is not None:
        monkeypatch.setenv("PGPASSWORD", server.password.get_secret_value())
    return server


@pytest.fixture
def throwaway_server(use_test_server: ConnectionSettings) -> ConnectionSettings:
    """The test server, only when it is the session's own: tests that drop fixed-name
    databases (``demo``) must never run against a server someone configured."""
    if not use_test_server.embedded:
        pytest.skip("drops the 'demo' database: runs on the throw-away embedded server only")
    return use_test_server


class Project:
    """A synthetic project under a unique package and database name."""

    def __init__(self, root: Path, package: str | None = None, **sizes: int) -> None:
        token = uuid.uuid4().hex[:8]
        self.package = package or f"synth_{token}"
        self.name = f"p_{token}"
        self.src = write_project(root, self.package, self.name, **sizes)
        self.folder = self.src / self.name

    def write(self, relative: str, text: str) -> Path:
        return write(self.folder, relative, text)


@pytest.fixture
def make_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_test_server: ConnectionSettings
) -> Iterator[Callable[..., Project]]:
    """Make a project; the build scripts see it (MEDALLION_SRC_PATH) and the test server."""
    pg_server = use_test_server
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[Project] = []

    def _make(beside: Project | None = None, **sizes: int) -> Project:
        """A project; ``beside``: in the same source folder as that one (built together)."""
        defaults = {"reference": 3, "transactional": 6, "temporal": 2}
        package = beside.package if beside else None
        project = Project(tmp_path, package, **{**defaults, **sizes})
        monkeypatch.setenv("MEDALLION_SRC_PATH", str(project.src))
        made.append(project)
        return project

    yield _make
    for project in made:
        forget_project(f"{project.package}.{project.name}")
        execute_autocommit(pg_server, f'DROP DATABASE IF EXISTS "{project.name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole test session (started on first use)."""
    from src.utils.spark import build_spark_session

    session = build_spark_session(load_settings())
    yield session
    session.stop()


TENANT_DAYS = (date(2026, 11, 19), date(2026, 11, 20))  # the days tenant_demo generates


@pytest.fixture
def tenant_demo(throwaway_server: ConnectionSettings, monkeypatch, tmp_path):
    """The demo with tenants acme and globex, built as database demo; a source per day."""
    from dataclasses import replace

    import src.demo.demo as demo_marker
    from scripts import orchestrate_build
    from src.demo.generator import SourceSpec, generate_day

    monkeypatch.setattr(
        demo_marker, "DATABASE", replace(demo_marker.DATABASE, tenants=("acme", "globex"))
    )
    source = f"src_{uuid.uuid4().hex[:8]}"
    for statement in ("DROP DATABASE IF EXISTS demo WITH (FORCE)", f'CREATE DATABASE "{source}"'):
        execute_autocommit(throwaway_server, statement)
    monkeypatch.setenv("MEDALLION_SOURCE_DATABASE", source)
    monkeypatch.setenv("MEDALLION_LANDING_DIR", str(tmp_path / "landing"))
    for day in TENANT_DAYS:
        generate_day(
            throwaway_server.with_database(source),
            tmp_path / "landing",
            day,
            SourceSpec(trades=150, instruments=6, portfolios=4),
        )
    assert orchestrate_build.main(["postgres", "demo", "WARNING"]) == 0
    yield throwaway_server.with_database("demo")
    for database in ("demo", source):
        execute_autocommit(throwaway_server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

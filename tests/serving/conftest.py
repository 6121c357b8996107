"""A loaded demo warehouse served over real HTTP (uvicorn on 127.0.0.1), once per session.

Tests that change it (a renamed instrument, an extra bar, a failed load) compare what
the API says with the database at that moment, so their order does not matter."""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from src._base.build.discovery import load_projects
from src._base.build.roles import api_role as api_role_name
from src._base.build.roles import ensure_api_role
from src.config import SRC_PATH, ConnectionSettings
from src.demo.generator import SourceSpec
from src.serving.app import project_app
from src.serving.db import api_connection
from src.utils.pg_binaries import free_port
from tests.conftest import run_sql
from tests.demo.conftest import DemoEnv, demo_databases, load_days

DAYS = (date(2026, 11, 19), date(2026, 11, 20))
SPEC = SourceSpec(seed=5, instruments=12, portfolios=6, trades=400)
PROJECT = load_projects(SRC_PATH, "demo")[0]
MODELS = PROJECT.models


@dataclass(frozen=True)
class Served:
    url: str
    env: DemoEnv
    app: FastAPI

    @property
    def warehouse(self) -> ConnectionSettings:
        return self.env.warehouse


def query(served: Served, sql: str, params: Any = None) -> list[tuple]:
    """Run ``sql`` on the served warehouse (committed); its rows, if it returns any."""
    return run_sql(served.warehouse, sql, params)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start; see the log above")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="session")
def served(pg_server: ConnectionSettings, tmp_path_factory) -> Iterator[Served]:
    """Two demo days loaded on the postgres engine, served."""
    with demo_databases(pg_server, tmp_path_factory.mktemp("landing")) as env:
        load_days(env, DAYS, SPEC)
        app = project_app(env.warehouse, SRC_PATH, PROJECT)
        with serving(app) as url:
            yield Served(url, env, app)


@dataclass(frozen=True)
class ApiRole:
    conn: ConnectionSettings  # the served warehouse as the API role
    passfile: Path  # where its password is kept


@pytest.fixture(scope="session")
def api_role(served: Served, tmp_path_factory) -> ApiRole:
    """The served warehouse's API role, made as the build makes it."""
    passfile = tmp_path_factory.mktemp("api") / "pgpass"
    role, new = ensure_api_role(served.warehouse, ("silver", "gold"), passfile)
    assert new and role == api_role_name(served.warehouse.database)
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    # a second build keeps the password it stored
    assert ensure_api_role(served.warehouse, ("silver", "gold"), passfile) == (role, False)
    return ApiRole(api_connection(served.warehouse, passfile), passfile)


@pytest.fixture(scope="session")
def as_api(api_role: ApiRole) -> ConnectionSettings:
    return api_role.conn


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

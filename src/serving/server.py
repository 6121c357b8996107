"""Run the API under uvicorn: in this process, or in ``workers`` processes sharing a port.

    options = ServeOptions(database="demo", project="demo")
    serve(load_settings(), options, host="127.0.0.1", port=8000, workers=2)

One process runs the app on one core; the API's Python (HTTP, validation, JSON) then
limits its throughput long before PostgreSQL does, so a server with spare cores serves
more with more workers (``bench/bench_api.py`` measures both). Workers are new
processes: each reads the settings again and gets the options from the environment
(``MEDALLION_SERVE_WORKER``, no secret in it: the API role's password stays in its
passfile), and their metrics meet in a temporary folder (:class:`.metrics.Metrics`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi import FastAPI

from src._base.build.discovery import load_projects
from src.config import ConnectionSettings, Settings, load_settings, resolve_connection
from src.serving.app import check_served, project_app
from src.serving.db import AsyncDatabase, api_connection
from src.serving.keys import load_keys
from src.serving.resources import SERVED_LAYERS
from src.utils.connections import ensure_server
from src.utils.log import configure_logging

log = logging.getLogger(__name__)

WORKER_OPTIONS = "MEDALLION_SERVE_WORKER"  # the options, as JSON, for worker processes
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own variable


@dataclass(frozen=True)
class ServeOptions:
    """What to serve: the database, the project built into it, its layers, the API key
    file (none: no keys), and whether to connect as the build's user."""

    database: str
    project: str
    layers: tuple[str, ...] = SERVED_LAYERS
    keys: Path | None = None
    as_owner: bool = False


def build_app(
    settings: Settings,
    options: ServeOptions,
    owner: ConnectionSettings,
    metrics_dir: Path | None = None,
) -> FastAPI:
    """The app for ``options`` on ``owner`` (the build's connection to the database)."""
    [project] = load_projects(settings.src_path, options.project)
    conn = owner if options.as_owner else api_connection(owner, settings.api_passfile)
    keys = load_keys(options.keys) if options.keys else None
    return project_app(
        conn, settings.src_path, project, layers=options.layers, keys=keys,
        metrics_dir=metrics_dir,
    )  # fmt: skip


def serve(
    settings: Settings,
    options: ServeOptions,
    *,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "INFO",
) -> None:
    """Serve until stopped; every error a bad option or database can cause is raised
    before listening (a missing table, role or password, an unreachable server)."""
    import uvicorn

    owner = ensure_server(settings, database=options.database)
    app = build_app(settings, options, owner)
    asyncio.run(_check(app))
    level = log_level.lower()
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=level)
        return
    payload = json.dumps({"options": asdict(options), "log_level": log_level}, default=str)
    with _worker_environment(payload) as metrics_dir:
        log.info("%d workers; their metrics meet in %s", workers, metrics_dir)
        uvicorn.run(
            f"{__name__}:worker_app", factory=True, host=host, port=port, workers=workers,
            log_level=level,
        )  # fmt: skip


def worker_app() -> FastAPI:
    """uvicorn's factory in each worker process (see :func:`serve`)."""
    payload = json.loads(os.environ[WORKER_OPTIONS])
    configure_logging(payload["log_level"])
    raw = payload["options"]
    options = ServeOptions(
        database=raw["database"],
        project=raw["project"],
        layers=tuple(raw["layers"]),
        keys=Path(raw["keys"]) if raw["keys"] else None,
        as_owner=raw["as_owner"],
    )
    settings = load_settings()
    owner = resolve_connection(settings, database=options.database)  # started by serve()
    return build_app(settings, options, owner, Path(os.environ[MULTIPROCESS_DIR]))


@contextmanager
def _worker_environment(payload: str) -> Iterator[Path]:
    """Workers inherit the options and a fresh metrics folder; both go when they stop."""
    saved = {name: os.environ.get(name) for name in (WORKER_OPTIONS, MULTIPROCESS_DIR)}
    with tempfile.TemporaryDirectory(prefix="medallion-metrics-") as folder:
        os.environ[WORKER_OPTIONS] = payload
        os.environ[MULTIPROCESS_DIR] = folder
        try:
            yield Path(folder)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


async def _check(app: FastAPI) -> None:
    """Connect once as the app will and check every served table exists."""
    db = AsyncDatabase.connect(app.state.conn, pool_size=1)
    try:
        await check_served(db, app.state.resources)
    finally:
        await db.dispose()

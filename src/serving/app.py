"""The FastAPI application over one built database project.

    app = create_app(conn, project)     # conn: ConnectionSettings of the project's database
    uvicorn.run(app, host="127.0.0.1", port=8000)

Routes are generated from the project's table classes (:mod:`.routes`); the OpenAPI
document at ``/openapi.json`` describes every one of them exactly. Errors are JSON with a
``detail`` that says what is allowed: a bad parameter is a 422 naming it, an unknown path
a 404 listing what is served, an unreachable database a 503; never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from src._base.build.discovery import import_file
from src._base.build.project import LoadedProject
from src._base.pipeline.catalogue import Catalogue, load_catalogue
from src.config import ConnectionSettings
from src.serving.db import AsyncDatabase
from src.serving.keys import ApiKeys
from src.serving.metrics import Metrics, MetricsMiddleware
from src.serving.resources import SERVED_LAYERS, Resource, resources_of
from src.serving.routes import Reader, resource_router
from src.serving.status import read_status
from src.utils.async_db import CONNECTION_LOST
from src.utils.errors import DefinitionError

log = logging.getLogger(__name__)


def project_app(
    conn: ConnectionSettings,
    src_path: Path,
    project: LoadedProject,
    *,
    layers: Sequence[str] = SERVED_LAYERS,
    keys: ApiKeys | None = None,
    metrics_dir: Path | None = None,
) -> FastAPI:
    """The app of one loaded project: its tables' routes, its own (``api.py``), and the
    status page and metrics of its transforms."""
    return create_app(
        conn,
        project.models,
        layers=layers,
        routers=project_routers(src_path, project),
        catalogue=load_catalogue(src_path, project.name),
        keys=keys,
        metrics_dir=metrics_dir,
    )


def project_routers(src_path: Path, project: LoadedProject) -> list[APIRouter]:
    """The project's own endpoints: ``ROUTER`` of ``src/<project>/api.py``, if it exists."""
    path = project.folder / "api.py"
    if not path.is_file():
        return []
    router = getattr(import_file(src_path, path), "ROUTER", None)
    if not isinstance(router, APIRouter):
        raise DefinitionError(
            f"{path} must define ROUTER = fastapi.APIRouter(prefix=...) with the project's "
            "own endpoints (or be removed)."
        )
    return [router]


def create_app(
    conn: ConnectionSettings,
    models: Sequence[type],
    *,
    title: str = "Medallion Lakehouse",
    layers: Sequence[str] = SERVED_LAYERS,
    routers: Sequence[APIRouter] = (),
    catalogue: Catalogue | None = None,
    keys: ApiKeys | None = None,
    metrics_dir: Path | None = None,
) -> FastAPI:
    """An app serving ``models`` (a project's table classes) of ``layers`` from ``conn``,
    and ``routers`` beside them; with ``catalogue``, the status page (``/``) and the
    warehouse metrics; with ``keys``, every route but ``/health`` wants one. With
    ``metrics_dir``, one of several worker processes (see :class:`Metrics`)."""
    resources = resources_of(models, layers)
    metrics = Metrics(metrics_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = AsyncDatabase.connect(conn)
        try:
            version = await check_served(app.state.db, resources)
            await app.state.db.open()
            log.info("serving %s (PostgreSQL %s)", conn.describe(), version)
            yield
        finally:
            await app.state.db.dispose()

    app = FastAPI(
        title=f"{title}: {conn.database}",
        description=f"Read API over the {', '.join(layers)} tables of '{conn.database}'.",
        lifespan=lifespan,
    )
    app.state.conn, app.state.resources = conn, resources
    for resource in resources:
        app.include_router(resource_router(resource))
    for router in routers:
        app.include_router(router)

    @app.get("/health", tags=["service"], summary="Liveness and the database's answer")
    async def health(request: Request) -> dict[str, str]:
        version = await request.app.state.db.check()
        return {"status": "ok", "database": conn.database, "postgres": version}

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", response_class=Response)
    async def prometheus(db: Reader) -> Response:
        if catalogue is not None:
            metrics.warehouse(await read_status(db, conn.database, catalogue))
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    if catalogue is not None:

        @app.get("/", tags=["service"], summary="Status page", response_class=HTMLResponse)
        async def status_page(db: Reader) -> HTMLResponse:
            status = await read_status(db, conn.database, catalogue)
            page = TEMPLATES.get_template("status.html").render(
                status=status, ago=ago, stale_after=STALE_AFTER.total_seconds()
            )
            return HTMLResponse(page)

    if keys is not None:
        app.add_middleware(ApiKeyMiddleware, keys=keys)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: refusals count too
    served = [r.path for r in resources] + [r.prefix for r in routers if r.prefix]
    _error_handlers(app, served)
    return app


TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
)
STALE_AFTER = timedelta(hours=36)  # a daily load older than this is shown as stale
OPEN = ("/health",)  # answered without an API key


def ago(seconds: float | None) -> str:
    """``1 d 3 h ago``, ``12 min ago``: a freshness a person reads at a glance."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    days, rest = divmod(minutes, 24 * 60)
    units = ((days, "d"), (rest // 60, "h"), (rest % 60, "min"))
    return " ".join([f"{n} {unit}" for n, unit in units if n][:2]) + " ago"


class ApiKeyMiddleware:
    """Every request but ``OPEN`` ones carries a known key (``X-API-Key`` or a bearer
    token), or gets a 401 saying how to send one. Plain ASGI, like the metrics."""

    def __init__(self, app: ASGIApp, keys: ApiKeys) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        bearer = headers.get("authorization", "")
        presented = headers.get("x-api-key") or (
            bearer[7:] if bearer.lower().startswith("bearer ") else ""
        )
        if presented and self.keys.name_of(presented) is not None:
            await self.app(scope, receive, send)
            return
        refusal = JSONResponse(
            {"detail": "missing or unknown API key: send it in the X-API-Key header "
                       "(or Authorization: Bearer <key>)"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
        await refusal(scope, receive, send)


async def check_served(db: AsyncDatabase, resources: Sequence[Resource]) -> str:
    """The server's version, once every served table is known to exist."""
    version = await db.check()
    missing = await db.missing([r.table.fullname for r in resources])
    if missing:
        raise DefinitionError(
            f"{db.conn.describe()} lacks {', '.join(missing)}: build the project there first "
            "(uv run python scripts/orchestrate_build.py, or make demo), or serve the database "
            "it was built in (--database)."
        )
    return version


def _error_handlers(app: FastAPI, served: Sequence[str]) -> None:

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = (
                f"{request.url.path} is not served. Served: {', '.join(served)} "
                "(each also /{key} and, if versioned, /{key}/history); /health; /docs."
            )
        return JSONResponse({"detail": detail}, status_code=exc.status_code)

    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        log.warning("%s %s: database unavailable: %s", request.method, request.url.path, reason)
        return JSONResponse(
            {"detail": "the warehouse database is unavailable; try again shortly"},
            status_code=503,
        )

    for failure in UNAVAILABLE:
        app.add_exception_handler(failure, database_down)


# What a lost or refused connection raises, through a session or asyncpg's pool (after
# read_rows' one retry): a 503.
UNAVAILABLE: tuple[type[Exception], ...] = (
    *CONNECTION_LOST,
    OperationalError,
    InterfaceError,
    TimeoutError,
    asyncpg.InvalidAuthorizationSpecificationError,  # class 28: the role refused
    asyncpg.OperatorInterventionError,  # class 57: shutdown, cancelled by the server
    asyncpg.InsufficientResourcesError,  # class 53: too many connections
)

"""The async database layer: an asyncpg engine and sessions, from the same settings.

    db = database_for(load_settings(), "demo")     # libpq variables, DATABASE_URL, embedded
    async with db.get_session() as session:
        rows = (await session.execute(select(InstrumentHist))).scalars().all()
    await db.dispose()

``db.get_session`` is also a FastAPI dependency's body (:func:`src.serving.routes.session`)
for a project's own endpoints that want the ORM.

The API's own reads (the generated routes, the demo's desk, the status page) skip the
ORM: they go through asyncpg's pool (:meth:`AsyncDatabase.open`, then ``db.pool``, the
``Reader`` dependency) with :func:`read_rows`, on SQL compiled once per shape
(:func:`compile_for_asyncpg`) that asyncpg prepares once per connection. A session cost
about a millisecond of Python a request, the pool a tenth of that.

``conn`` comes from :func:`src.utils.connections.ensure_server` (libpq variables,
``DATABASE_URL`` with or without ``+asyncpg``, or the embedded server), so the API
connects exactly where the build does. The password travels inside the URL object,
never in a string that could be logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import URL, Executable, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from src._base.build.roles import api_role
from src.config import ConnectionSettings, Settings, read_pgpass, resolve_connection
from src.utils.async_db import CONNECTION_LOST, asyncpg_arguments
from src.utils.connections import sqlalchemy_url
from src.utils.errors import AuthenticationFailed, ConfigError, DatabaseUnreachable


async def read_rows(pool: asyncpg.Pool, sql: str, *args: Any) -> list[dict[str, Any]]:
    """The rows of ``sql`` (parameters ``$1``, ``$2``...) as dicts by column; asyncpg
    prepares each statement once per connection. A read that meets a connection the
    server closed is repeated once on a new one (every pooled connection is replaced: a
    restart closes them all); what the repeat raises goes to the caller."""
    try:
        records = await pool.fetch(sql, *args)
    except CONNECTION_LOST:
        await pool.expire_connections()
        records = await pool.fetch(sql, *args)
    return [dict(record) for record in records]


@dataclass(frozen=True)
class Statement:
    """SQL in asyncpg's ``$n`` form and the names its parameters bind in order."""

    sql: str
    names: tuple[str, ...]

    async def rows(self, pool: asyncpg.Pool, **values: Any) -> list[dict[str, Any]]:
        """The statement's rows for ``values`` (one per name), as dicts by column."""
        return await read_rows(pool, self.sql, *(values[name] for name in self.names))


def compile_for_asyncpg(query: Executable) -> Statement:
    """``query`` (SQLAlchemy Core, parameters as ``bindparam``) compiled once for asyncpg."""
    compiled = query.compile(dialect=asyncpg_dialect())
    return Statement(compiled.string, tuple(compiled.positiontup or ()))


def database_for(settings: Settings, database: str | None = None) -> AsyncDatabase:
    """An async engine on the connection the build scripts would use (``DATABASE_URL`` may
    say ``postgresql+asyncpg://``); nothing connects until first use or :meth:`check`."""
    return AsyncDatabase.connect(resolve_connection(settings, database=database))


def api_connection(owner: ConnectionSettings, passfile: Path) -> ConnectionSettings:
    """``owner``'s database as the read-only API role the build made (its password from
    ``passfile``, where the build wrote it)."""
    role = api_role(owner.database)
    password = read_pgpass(passfile, owner.host, owner.port, owner.database, role)
    if password is None:
        raise ConfigError(
            f"No password for the API role {role} of {owner.describe()} in {passfile}. Build "
            "the database on this machine (uv run python scripts/orchestrate_build.py makes the "
            "role and writes its password there; MEDALLION_API_PASSFILE moves it), or serve as "
            "the build's user with --as-owner."
        )
    return replace(owner, user=role, password=password, embedded=False)


def async_url(conn: ConnectionSettings) -> URL:
    """``postgresql+asyncpg://`` for ``conn`` (the password, if any, stays a secret)."""
    return sqlalchemy_url(conn, driver="asyncpg")


# Every connection the API opens: read-only by default whatever role it is, times in UTC.
SERVER_SETTINGS = {
    "application_name": "medallion-api",
    "TimeZone": "UTC",
    "default_transaction_read_only": "on",
}


async def _keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing to undo. asyncpg still rolls back an open
    transaction itself; the API never changes session state (its endpoints must not
    ``SET`` without ``LOCAL``), so the default reset's round trip is saved."""


@dataclass
class AsyncDatabase:
    """One database's async engine and the sessions made from it; once :meth:`open`,
    also asyncpg's pool for the API's fixed reads (``pool``)."""

    conn: ConnectionSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    pool_size: int
    pool: asyncpg.Pool | None = None

    @classmethod
    def connect(cls, conn: ConnectionSettings, *, pool_size: int = 16) -> AsyncDatabase:
        """An engine for ``conn`` (no connection is opened until first use; see
        :meth:`check`). Its sessions are read-only: the API never writes, whatever role it
        connects as. ``pool_size`` bounds the connections of :meth:`open`'s pool; requests
        beyond it wait for one instead of opening and closing connections."""
        # Autocommit: a read needs no BEGIN and no ROLLBACK, one round trip instead of
        # three; 'read only' is the server's default for the session, so nothing can write
        # all the same. Sessions serve a project's own ORM-style endpoints, not the hot
        # reads: a few connections, each pinged on checkout so that one the server cut
        # (a restart) is replaced instead of failing its request.
        engine = create_async_engine(
            async_url(conn),
            pool_size=2,
            max_overflow=max(pool_size - 2, 0),
            pool_pre_ping=True,
            isolation_level="AUTOCOMMIT",
            connect_args={"timeout": conn.connect_timeout, "server_settings": SERVER_SETTINGS},
        )
        return cls(conn, engine, async_sessionmaker(engine, expire_on_commit=False), pool_size)

    async def open(self) -> asyncpg.Pool:
        """Open asyncpg's pool (one connection now, up to ``pool_size``), or raise the
        build's errors. Statements are prepared once per connection and reused."""
        if self.pool is None:
            conn = self.conn
            try:
                self.pool = await asyncpg.create_pool(
                    **asyncpg_arguments(conn), server_settings=SERVER_SETTINGS, min_size=1,
                    max_size=self.pool_size, reset=_keep_session,
                )  # fmt: skip
            except Exception as exc:  # OSError, TimeoutError or asyncpg's own classes
                raise _connect_error(conn, exc) from None
        return self.pool

    @asynccontextmanager
    async def get_session(self) -> AsyncIterator[AsyncSession]:
        """A read-only session; each statement stands alone (autocommit)."""
        async with self.sessions() as session:
            yield session

    async def check(self) -> str:
        """Connect once and return the server's version, or raise the build's errors."""
        try:
            async with self.engine.connect() as connection:
                return str((await connection.execute(text("SHOW server_version"))).scalar())
        except Exception as exc:  # asyncpg raises OSError, TimeoutError or its own classes
            raise _connect_error(self.conn, exc) from None

    async def missing(self, tables: Sequence[str]) -> list[str]:
        """Which of ``tables`` (``schema.name``) the database lacks."""
        async with self.engine.connect() as connection:
            found = await connection.execute(
                text(
                    "SELECT t FROM unnest(CAST(:tables AS text[])) AS t"
                    " WHERE to_regclass(t) IS NULL"
                ),
                {"tables": list(tables)},
            )
            return [row[0] for row in found]

    async def dispose(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
        await self.engine.dispose()


def _connect_error(conn: ConnectionSettings, exc: BaseException) -> Exception:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "password" in reason.lower() or "authentication" in reason.lower():
        return AuthenticationFailed(
            f"PostgreSQL at {conn.describe()} refused the credentials ({reason}). Check "
            "PGUSER/PGPASSWORD, DATABASE_URL or your pgpass file."
        )
    if isinstance(exc, OSError | asyncio.TimeoutError) or "connect" in reason.lower():
        return DatabaseUnreachable(
            f"No PostgreSQL server answered at {conn.describe()} ({reason}). Start it "
            "(make pg-start for the embedded one) or fix PGHOST/PGPORT/DATABASE_URL."
        )
    if "does not exist" in reason:
        return DatabaseUnreachable(
            f"{conn.describe()}: {reason}. Build it first (uv run python "
            "scripts/orchestrate_build.py, or make demo) or pass the right --database."
        )
    return DatabaseUnreachable(f"Cannot use {conn.describe()}: {reason}.")

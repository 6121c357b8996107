"""The async database layer: an asyncpg engine and sessions, from the same settings.

    db = database_for(load_settings(), "demo")     # libpq variables, DATABASE_URL, embedded
    async with db.get_session() as session:
        rows = (await session.execute(select(InstrumentHist))).scalars().all()
    await db.dispose()

``db.get_session`` is also a FastAPI dependency's body (:func:`src.serving.routes.session`).

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

from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from src._base.build.roles import api_role
from src.config import ConnectionSettings, Settings, read_pgpass, resolve_connection
from src.utils.connections import sqlalchemy_url
from src.utils.errors import AuthenticationFailed, ConfigError, DatabaseUnreachable


async def fetch_dicts(session: AsyncSession, sql: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of a textual query, as dicts keyed by column name."""
    return [dict(row) for row in (await session.execute(text(sql), params)).mappings()]


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


@dataclass
class AsyncDatabase:
    """One database's async engine and the sessions made from it."""

    conn: ConnectionSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, conn: ConnectionSettings, *, pool_size: int = 10) -> AsyncDatabase:
        """An engine for ``conn`` (no connection is opened until first use; see
        :meth:`check`). Its sessions are read-only: the API never writes, whatever role it
        connects as."""
        # Autocommit: a read needs no BEGIN and no ROLLBACK (nor a ping per checkout), one
        # round trip instead of four; 'read only' is the server's default for the session,
        # so nothing can write all the same. A dropped connection fails its request with a
        # 503 and is replaced.
        engine = create_async_engine(
            async_url(conn),
            pool_size=pool_size,
            max_overflow=pool_size,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "timeout": conn.connect_timeout,
                "server_settings": {
                    "application_name": "medallion-api",
                    "TimeZone": "UTC",
                    "default_transaction_read_only": "on",
                },
            },
        )
        return cls(conn, engine, async_sessionmaker(engine, expire_on_commit=False))

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

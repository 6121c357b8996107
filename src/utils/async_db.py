"""asyncpg beside the build's settings: connection arguments, and what a lost connection
raises (for the API's pool and the market-data collector alike)."""

from __future__ import annotations

from typing import Any

import asyncpg

from src.config import ConnectionSettings

# What a connection the server closed (a restart, a failover, a terminated backend)
# raises on its next statement; asyncpg only notices when the connection is used.
CONNECTION_LOST: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # class 08, and a connection already closed
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,  # the server is starting or stopping
    asyncpg.InternalClientError,  # the server's goodbye arrived just as a query left
    ConnectionError,  # reset, refused, aborted
)


def asyncpg_arguments(conn: ConnectionSettings) -> dict[str, Any]:
    """``asyncpg.connect`` / ``create_pool`` keywords for ``conn`` (its password, if any,
    passed as a value, never logged)."""
    return {
        "host": conn.host,
        "port": conn.port,
        "user": conn.user,
        "database": conn.database,
        "password": conn.password.get_secret_value() if conn.password else None,
        "timeout": conn.connect_timeout,
    }

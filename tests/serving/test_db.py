"""The async database layer: configured like the build, with the build's clear errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from src.config import ConnectionSettings, load_settings
from src.serving.db import AsyncDatabase, async_url, database_for
from src.utils.errors import AuthenticationFailed, ConfigError, DatabaseUnreachable
from src.utils.pg_binaries import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]


def _url(conn: ConnectionSettings, scheme: str) -> str:
    password = conn.password.get_secret_value() if conn.password else ""
    return f"{scheme}://{conn.user}:{password}@{conn.host}:{conn.port}/{conn.database}"


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+asyncpg"])
async def test_database_url_with_or_without_asyncpg(pg_database, scheme, monkeypatch) -> None:
    for var in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DATABASE_URL", _url(pg_database, scheme))
    db = database_for(load_settings(env_file=None))
    try:
        async with db.get_session() as session:
            name = (await session.execute(text("SELECT current_database()"))).scalar()
        assert name == pg_database.database
        assert await db.check()
    finally:
        await db.dispose()


def test_the_password_stays_out_of_the_url_s_text(pg_server) -> None:
    url = async_url(pg_server)
    assert url.drivername == "postgresql+asyncpg"
    if pg_server.password is not None:
        assert pg_server.password.get_secret_value() not in str(url)
        assert pg_server.password.get_secret_value() not in repr(url)


def test_a_url_of_another_database_kind_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://u:p@localhost:3306/demo")
    with pytest.raises(ConfigError, match="DATABASE_URL has scheme 'mysql'"):
        database_for(load_settings(env_file=None))


async def test_an_unreachable_server_is_named(pg_server) -> None:
    nowhere = ConnectionSettings("127.0.0.1", free_port(), "postgres", "demo", connect_timeout=2)
    db = AsyncDatabase.connect(nowhere)
    with pytest.raises(DatabaseUnreachable, match=rf"postgres@127.0.0.1:{nowhere.port}/demo"):
        await db.check()
    await db.dispose()


async def test_wrong_credentials_and_a_missing_database_are_named(pg_server) -> None:
    from pydantic import SecretStr

    if not pg_server.embedded:
        pytest.skip("a configured server may trust any password")
    wrong = ConnectionSettings(
        pg_server.host, pg_server.port, pg_server.user, "postgres", SecretStr("wrong")
    )
    db = AsyncDatabase.connect(wrong)
    with pytest.raises(AuthenticationFailed, match="refused the credentials"):
        await db.check()
    await db.dispose()
    missing = AsyncDatabase.connect(pg_server.with_database("no_such_db"))
    with pytest.raises(DatabaseUnreachable, match=r"no_such_db.*does not exist.*Build it"):
        await missing.check()
    await missing.dispose()

"""Engines and connectivity checks that fail fast, with errors a person can act on."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import psycopg2
from sqlalchemy import URL, Engine, create_engine, text

from src.config import ConnectionSettings, Settings, resolve_connection
from src.utils import faults
from src.utils.embedded_postgres import EmbeddedPostgres
from src.utils.errors import AuthenticationFailed, DatabaseUnreachable

log = logging.getLogger(__name__)


def sqlalchemy_url(
    conn: ConnectionSettings, database: str | None = None, *, driver: str = "psycopg2"
) -> URL:
    """A URL object: it carries the password but never renders it in logs."""
    return URL.create(
        f"postgresql+{driver}",
        username=conn.user,
        password=conn.password.get_secret_value() if conn.password else None,
        host=conn.host,
        port=conn.port,
        database=database or conn.database,
    )


def create_db_engine(
    conn: ConnectionSettings, database: str | None = None, **kwargs: object
) -> Engine:
    """An engine whose connections give up after ``conn.connect_timeout`` seconds."""
    connect_args = {"connect_timeout": conn.connect_timeout, "application_name": "medallion"}
    return create_engine(
        sqlalchemy_url(conn, database), connect_args=connect_args, future=True, **kwargs
    )


def connect_raw(conn: ConnectionSettings, database: str | None = None, **kwargs: object):
    """A plain psycopg2 connection, with errors translated like :func:`check_connection`."""
    try:
        return psycopg2.connect(
            host=conn.host,
            port=conn.port,
            user=conn.user,
            password=conn.password.get_secret_value() if conn.password else None,
            dbname=database or conn.database,
            connect_timeout=conn.connect_timeout,
            application_name="medallion",
            **kwargs,
        )
    except psycopg2.OperationalError as exc:
        raise translate_connect_error(exc, conn, database) from None


def translate_connect_error(
    exc: Exception, conn: ConnectionSettings, database: str | None = None
) -> Exception:
    """Turn a driver error raised while connecting into one clear project error."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else repr(exc)
    where = conn.describe(database)
    if "password authentication failed" in reason or "no password supplied" in reason:
        return AuthenticationFailed(_auth_message(conn))
    if "does not exist" in reason and "database" in reason:
        return DatabaseUnreachable(
            f"Database in {where} does not exist: {reason}. Build it first "
            "(python scripts/build_databases.py) or fix PGDATABASE."
        )
    hint = (
        "Start the embedded server with 'make pg-start'."
        if conn.embedded
        else "Is the server running? Check PGHOST/PGPORT (or DATABASE_URL)."
    )
    return DatabaseUnreachable(
        f"Cannot reach PostgreSQL at {where} within {conn.connect_timeout} s: {reason}. {hint}"
    )


def _auth_message(conn: ConnectionSettings) -> str:
    if conn.embedded and conn.password is None:
        return (
            f"No password is known for user '{conn.user}' on the embedded server: its pgpass "
            "file holds its superuser only ('postgres'). Unset PGUSER, or point PGHOST/PGPORT "
            "at a server where that user exists."
        )
    if conn.embedded:
        return (
            f"The embedded server refused the password in its pgpass file for '{conn.user}': "
            "the file does not belong to this data directory. 'make pg-reset' recreates both "
            "(it deletes the embedded server's data)."
        )
    return (
        f"PostgreSQL at {conn.host}:{conn.port} refused the password for user '{conn.user}'. "
        "Check PGPASSWORD, DATABASE_URL or your pgpass file."
    )


def check_connection(conn: ConnectionSettings, database: str | None = None) -> str:
    """Connect once and return the server version, or raise a clear project error."""
    raw = connect_raw(conn, database)
    try:
        with raw.cursor() as cur:
            cur.execute("SHOW server_version")
            return str(cur.fetchone()[0])
    finally:
        raw.close()


def ensure_server(
    settings: Settings,
    *,
    user: str | None = None,
    host: str | None = None,
    port: int | None = None,
    database: str | None = None,
) -> ConnectionSettings:
    """The connection to use; when none is configured, start (or reuse) the embedded server."""
    conn = resolve_connection(settings, user=user, host=host, port=port, database=database)
    if conn.embedded:
        server = EmbeddedPostgres.from_settings(settings)
        server.start()
        conn = resolve_connection(settings, user=user, database=database)
    version = check_connection(conn)
    log.debug("connected to %s (PostgreSQL %s)", conn.describe(), version)
    return conn


def fetch_rows(raw: Any, sql: str, params: Any = None) -> list[tuple]:
    """Every row of ``sql`` on an open psycopg2 connection (its transaction stays open)."""
    with raw.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def relation_columns(raw: Any, relation: str) -> list[tuple[str, str]]:
    """``(column, PostgreSQL type)`` of a table or view, in order (``relation`` as in SQL)."""
    return fetch_rows(
        raw,
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (relation,),
    )


def execute_autocommit(conn: ConnectionSettings, sql: str, database: str | None = None) -> None:
    """Run one statement outside a transaction (CREATE DATABASE needs that)."""
    engine = create_db_engine(conn, database, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


class _FaultAfterFirstRead:
    """A reader that passes the ``copy`` fault point once rows have started to flow."""

    def __init__(self, rows: Any, job: str) -> None:
        self.rows, self.job, self.started = rows, job, False

    def read(self, size: int = -1) -> bytes:
        data = self.rows.read(size)
        if data and not self.started:
            self.started = True
            faults.point("copy", self.job)
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.rows.readline(size)


def copy_between(source: Any, query: str, target: Any, table: str, job: str = "") -> None:
    """Stream the rows of ``query`` on ``source`` into ``table`` on ``target`` (two
    psycopg2 connections), ``COPY ... TO STDOUT`` feeding ``COPY ... FROM STDIN`` through
    a pipe: both servers work at once and the rows never sit whole in memory.

    Either side's error is raised; a source that fails part-way raises after the target
    has read what came, so the caller's transaction must not be committed (it is not
    when this raises).
    """
    read_end, write_end = os.pipe()
    failed: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_end, "wb") as out:
                source.cursor().copy_expert(f"COPY ({query}) TO STDOUT", out)
        except BaseException as exc:
            failed.append(exc)

    producer = threading.Thread(target=produce, name="copy-out", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_end, "rb") as rows, target.cursor() as cur:
            cur.copy_expert(f"COPY {table} FROM STDIN", _FaultAfterFirstRead(rows, job))
    finally:
        producer.join()
    if failed:
        raise failed[0]

"""The read-only role a database's API connects as: least privilege, made by the build.

    ensure_api_role(conn, ("silver", "gold"), passfile)   # conn: the database, as its owner

The role (``<database>_api``) may log in and read the served schemas' tables and views
and the load log (the status page and metrics read it), nothing else: no bronze, no
other framework table, no writes. Tables created later in those schemas are readable
too (default privileges). Its password is generated once and kept in ``passfile`` (libpq
format, mode 0600), where the API reads it; the server receives only its SCRAM verifier,
so no log line can show it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from psycopg2.extensions import encrypt_password

from src._base.functions.load_log import LOAD_LOG
from src._base.functions.system_time import FRAMEWORK_SCHEMA
from src.config import ConnectionSettings, read_pgpass
from src.utils.connections import connect_raw

API_SCHEMAS = ("silver", "gold")  # what the API serves by default, and its role reads


def api_role(database: str) -> str:
    """The API's role for ``database``."""
    return f"{database}_api"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_api_role(
    conn: ConnectionSettings, schemas: Sequence[str], passfile: Path
) -> tuple[str, bool]:
    """Create or update ``conn.database``'s API role and its grants; returns its name and
    whether a new password was stored in ``passfile``."""
    role = api_role(conn.database)
    name = _quoted(role)
    grants = [f"ALTER ROLE {name} SET default_transaction_read_only = on"]
    for schema in map(_quoted, schemas):
        grants += [
            f"GRANT USAGE ON SCHEMA {schema} TO {name}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {name}",
        ]
    grants += [
        f"GRANT USAGE ON SCHEMA {FRAMEWORK_SCHEMA} TO {name}",
        f"GRANT SELECT ON {LOAD_LOG} TO {name}",
    ]
    return role, _ensure_login_role(conn, role, passfile, grants)


def tenant_role(database: str, tenant: str) -> str:
    """The role tenant ``tenant`` of ``database`` connects as."""
    return f"{database}_tenant_{tenant}"


def ensure_tenant_role(
    conn: ConnectionSettings, tenant: str, schemas: Sequence[str], passfile: Path
) -> tuple[str, bool]:
    """Create or update a tenant's role: it reads and writes its own ``schemas`` (tables
    made there later too) and nothing else. It may use the ``medallion`` schema's
    functions, which its tables' history triggers call, but reads none of its tables."""
    role = tenant_role(conn.database, tenant)
    name = _quoted(role)
    grants = [f"GRANT USAGE ON SCHEMA {FRAMEWORK_SCHEMA} TO {name}"]
    for schema in map(_quoted, schemas):
        grants += [
            f"GRANT USAGE ON SCHEMA {schema} TO {name}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, "
            f"DELETE ON TABLES TO {name}",
        ]
    return role, _ensure_login_role(conn, role, passfile, grants)


def _ensure_login_role(
    conn: ConnectionSettings, role: str, passfile: Path, grants: Sequence[str]
) -> bool:
    """Create ``role`` (LOGIN, no other power) or update it, run ``grants`` as the owner;
    True when a new password was generated and stored in ``passfile``."""
    known = read_pgpass(passfile, conn.host, conn.port, conn.database, role)
    password = known.get_secret_value() if known else secrets.token_urlsafe(24)
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            verifier = encrypt_password(password, role, raw, "scram-sha-256")
            name, database = _quoted(role), _quoted(conn.database)
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE ROLE {name}")
            cur.execute(
                f"ALTER ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "PASSWORD %s",
                (verifier,),
            )
            cur.execute(f"GRANT CONNECT ON DATABASE {database} TO {name}")
            for statement in grants:
                cur.execute(statement)
        raw.commit()
    finally:
        raw.close()
    if known is None:
        _remember(passfile, conn, role, password)
    return known is None


def _remember(passfile: Path, conn: ConnectionSettings, role: str, password: str) -> None:
    """Append the role's line to ``passfile`` (created 0600; an existing file must be)."""
    passfile.parent.mkdir(parents=True, exist_ok=True)
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    line = f"{conn.host}:{conn.port}:{conn.database}:{role}:{escaped}\n"
    fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line)
    passfile.chmod(0o600)

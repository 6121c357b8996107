"""The encrypted connections store: source settings kept in the warehouse itself.

One row per source in ``medallion.source_connection``: the kind, the settings that are
not secret (host, port, user, database, path, base URL) as JSON, and the secret ones
(password, keys, a URL that may carry a password) as one Fernet token. The keys come
from ``MEDALLION_CONNECTIONS_KEY`` (comma-separated, newest first) or
``MEDALLION_CONNECTIONS_KEY_FILE`` (one per line, newest first; the file must be readable
by its owner only). Decryption tries every key (MultiFernet); :func:`rotate` re-encrypts
every row with the newest, after which the older keys can be dropped.

Secrets are never logged, printed or returned except to the code that connects.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from src.utils.errors import ConfigError

TABLE = "medallion.source_connection"
CREATE = (
    "CREATE SCHEMA IF NOT EXISTS medallion",
    f"CREATE TABLE IF NOT EXISTS {TABLE} (name text PRIMARY KEY, kind text NOT NULL, "
    "settings jsonb NOT NULL, secret bytea, updated_at timestamptz NOT NULL DEFAULT now())",
)
KEY_VARIABLES = "MEDALLION_CONNECTIONS_KEY or MEDALLION_CONNECTIONS_KEY_FILE"


@dataclass(frozen=True)
class StoredSource:
    """One row of the store, as ``list`` shows it: which secrets are set, not their values."""

    name: str
    kind: str
    settings: dict[str, str]
    secret_names: tuple[str, ...]
    updated_at: datetime | None = None


def _key_lines(key: SecretStr | None, key_file: Path | None) -> list[str]:
    if key is not None:
        return [k.strip() for k in key.get_secret_value().split(",") if k.strip()]
    if key_file is None:
        return []
    if not key_file.is_file():
        raise ConfigError(f"MEDALLION_CONNECTIONS_KEY_FILE={key_file}: no such file.")
    if stat.S_IMODE(key_file.stat().st_mode) & 0o077:
        raise ConfigError(
            f"{key_file} (MEDALLION_CONNECTIONS_KEY_FILE) is readable by others: chmod 600 it."
        )
    return [line.strip() for line in key_file.read_text().splitlines() if line.strip()]


def keyring(key: SecretStr | None, key_file: Path | None) -> MultiFernet:
    """The store's keys, newest first; a missing or malformed key says which setting."""
    lines = _key_lines(key, key_file)
    if not lines:
        raise ConfigError(
            f"The connections store needs a key: set {KEY_VARIABLES} (make one with "
            "scripts/connections.py keygen FILE)."
        )
    try:
        return MultiFernet([Fernet(line) for line in lines])
    except (ValueError, TypeError):
        raise ConfigError(
            f"{KEY_VARIABLES} holds a value that is not a Fernet key (32 url-safe base64 "
            "bytes); make one with scripts/connections.py keygen FILE."
        ) from None


def new_key() -> str:
    return Fernet.generate_key().decode()


def ensure_store(conn: Any) -> None:
    with conn.cursor() as cur:
        for statement in CREATE:
            cur.execute(statement)
    conn.commit()


def _exists(conn: Any) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,))
        return bool(cur.fetchone()[0])


def put(
    conn: Any, keys: MultiFernet, name: str, kind: str, settings: dict[str, str],
    secrets: dict[str, str],
) -> None:  # fmt: skip
    """Add or replace a source's row."""
    ensure_store(conn)
    token = keys.encrypt(json.dumps(secrets).encode()) if secrets else None
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (name, kind, settings, secret) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, settings = "
            "EXCLUDED.settings, secret = EXCLUDED.secret, updated_at = now()",
            (name, kind, json.dumps(settings), token),
        )
    conn.commit()


def remove(conn: Any, name: str) -> bool:
    if not _exists(conn):
        return False
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE name = %s", (name,))
        found = cur.rowcount > 0
    conn.commit()
    return found


def _rows(conn: Any) -> list[tuple]:
    if not _exists(conn):
        return []
    with conn.cursor() as cur:
        cur.execute(f"SELECT name, kind, settings, secret, updated_at FROM {TABLE} ORDER BY name")
        return cur.fetchall()


def _decrypt(keys: MultiFernet, name: str, token: bytes | None) -> dict[str, str]:
    if token is None:
        return {}
    try:
        return json.loads(keys.decrypt(bytes(token)))
    except InvalidToken:
        raise ConfigError(
            f"The stored secrets of source '{name}' open with none of the keys in "
            f"{KEY_VARIABLES}: put the key they were stored with back (newest first), or "
            f"store the source again (scripts/connections.py add {name} ...)."
        ) from None


def listing(conn: Any, keys: MultiFernet | None) -> list[StoredSource]:
    """Every stored source; with ``keys``, the names of its secrets (values stay hidden)."""
    return [
        StoredSource(
            name, kind, settings,
            tuple(sorted(_decrypt(keys, name, token))) if keys and token else
            (("<encrypted>",) if token else ()),
            updated_at,
        )
        for name, kind, settings, token, updated_at in _rows(conn)
    ]  # fmt: skip


def read_all(conn: Any, keys_for: Any) -> dict[str, tuple[str, dict[str, str], dict[str, str]]]:
    """``{name: (kind, settings, secrets)}``; ``keys_for()`` is asked for the keyring only
    when some row has secrets (a store without secrets needs no key)."""
    rows = _rows(conn)
    keys = keys_for() if any(token is not None for *_, token, _ in rows) else None
    return {
        name: (kind, settings, _decrypt(keys, name, token) if token is not None else {})
        for name, kind, settings, token, _ in rows
    }


def rotate(conn: Any, keys: MultiFernet) -> int:
    """Re-encrypt every row's secrets with the newest key; how many rows were rewritten."""
    rewritten = 0
    with conn.cursor() as cur:
        for name, _, _, token, _ in _rows(conn):
            if token is None:
                continue
            try:
                fresh = keys.rotate(bytes(token))
            except InvalidToken:
                conn.rollback()
                _decrypt(keys, name, token)  # raises the message naming the source
            cur.execute(f"UPDATE {TABLE} SET secret = %s WHERE name = %s", (fresh, name))
            rewritten += 1
    conn.commit()
    return rewritten

"""Names: snake_case for classes, and PostgreSQL identifiers that always fit in 63 bytes."""

from __future__ import annotations

import hashlib
import re

MAX_IDENTIFIER_BYTES = 63
_HASH_CHARS = 8
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def snake_case(name: str) -> str:
    """``TradeStatusType`` → ``trade_status_type``; ``OHLCVBar`` → ``ohlcv_bar``."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def identifier(*parts: str) -> str:
    """Join parts with ``_``; if that exceeds 63 bytes, shorten it with a hash suffix.

    PostgreSQL silently truncates long names, so two long generated names could collide.
    The leading parts are cut and followed by a hash of the full name, and the last part
    (``before_update``, ``as_of``, ...) is kept, so names stay readable, deterministic
    and distinct.
    """
    full = "_".join(part for part in parts if part)
    if len(full.encode()) <= MAX_IDENTIFIER_BYTES:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:_HASH_CHARS]
    tail = parts[-1] if len(parts) > 1 else ""
    budget = MAX_IDENTIFIER_BYTES - len(digest) - (len(tail.encode()) + 1 if tail else 0) - 1
    if budget < _HASH_CHARS:  # the last part alone is too long to keep
        tail, budget = "", MAX_IDENTIFIER_BYTES - len(digest) - 1
    head = "_".join(parts[:-1]) if tail else full
    head = head.encode()[:budget].decode(errors="ignore").rstrip("_")
    return "_".join(part for part in (head, digest, tail) if part)


def literal(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def quote(name: str) -> str:
    """Double-quote an identifier for SQL text."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, name: str) -> str:
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)

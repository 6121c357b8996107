"""What ``scripts/connections.py`` does, as functions: store, list, test and rotate the
settings of a project's declared sources (see :mod:`.store` and :mod:`.resolve`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from src._base.build.discovery import project_marker
from src._base.build.project import warehouse_database
from src._base.pipeline.daily import tenant_layers
from src._base.sources import store
from src._base.sources.declared import KINDS, SECRET_SETTINGS
from src._base.sources.resolve import probe, project_sources
from src.config import ConnectionSettings, Settings
from src.utils.connections import connect_raw
from src.utils.errors import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")


def write_key_file(path: Path) -> int:
    """Put a new key first in ``path`` (created 0600); how many keys it now holds. The
    key itself is never printed: point MEDALLION_CONNECTIONS_KEY_FILE at the file."""
    older = path.read_text().split() if path.is_file() else []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join([store.new_key(), *older]) + "\n")
    return len(older) + 1


def check_settings(project: str, settings: Settings, name: str, kind: str,
                   values: dict[str, str]) -> None:  # fmt: skip
    declared = {s.name: s for s in project_marker(settings.src_path, project).sources}
    if name not in declared:
        raise ConfigError(
            f"Project {project} declares no source '{name}' (declared: "
            f"{', '.join(sorted(declared)) or 'none'}): declare it on its DATABASE first."
        )
    if declared[name].kind != kind:
        raise ConfigError(f"Source '{name}' is declared {declared[name].kind}, not {kind}.")
    unknown = sorted(set(values) - set(KINDS[kind].settings))
    if unknown:
        raise ConfigError(
            f"{', '.join(unknown)}: not settings of a {kind} source (settings: "
            f"{', '.join(KINDS[kind].settings)})."
        )


def add(conn: ConnectionSettings, settings: Settings, project: str, name: str, kind: str,
        values: dict[str, str], tenant: str | None = None) -> None:  # fmt: skip
    """Store a source's settings (secret ones encrypted) in ``project``'s warehouse; with
    ``tenant``, the tenant's own (the row ``<name>@<tenant>``)."""
    check_settings(project, settings, name, kind, values)
    if tenant is not None:
        tenant_layers(settings, project, tenant)  # a declared tenant, or the error says so
        name = f"{name}@{tenant}"
    plain = {k: v for k, v in values.items() if k not in SECRET_SETTINGS}
    secret = {k: v for k, v in values.items() if k in SECRET_SETTINGS}
    keys = store.keyring(settings.connections_key, settings.connections_key_file)
    raw = connect_raw(conn.with_database(warehouse_database(project, settings.env)))
    try:
        store.put(raw, keys, name, kind, plain, secret)
    finally:
        raw.close()
    log.info("%s: source %s stored (%s)", project, name, ", ".join(sorted(values)) or "no settings")


@dataclass(frozen=True)
class Reachability:
    name: str
    kind: str
    where: str
    origin: str
    problem: str | None


def check_sources(conn: ConnectionSettings, settings: Settings, project: str,
                 names: list[str]) -> list[Reachability]:  # fmt: skip
    """Resolve the project's sources as a run would and ask each to answer within the
    connect timeout (``MEDALLION_CONNECT_TIMEOUT``)."""
    warehouse = conn.with_database(warehouse_database(project, settings.env))
    resolved = project_sources(settings, warehouse, project)
    unknown = sorted(set(names) - set(resolved))
    if unknown:
        raise ConfigError(
            f"Project {project} declares no source {', '.join(unknown)} (declared: "
            f"{', '.join(sorted(resolved)) or 'none'})."
        )
    return [
        Reachability(s.name, s.kind, s.describe(), s.origin, probe(s, settings.connect_timeout))
        for name, s in sorted(resolved.items())
        if not names or name in names
    ]


def with_store(
    conn: ConnectionSettings, settings: Settings, project: str, action: Callable[[Any], T]
) -> T:
    """``action(connection)`` on the project's warehouse (in ``settings.env``)."""
    raw = connect_raw(conn.with_database(warehouse_database(project, settings.env)))
    try:
        return action(raw)
    finally:
        raw.close()

"""Resolve a project's declared sources to places, and check that they answer.

Per source, the settings merge in this order (later wins): the declaration's defaults,
the connections store's row, the environment (``MEDALLION_SOURCE__<NAME>__URL``, then
``__HOST``, ``__PORT``, ``__USER``, ``__PASSWORD``, ``__DATABASE``; ``__PATH`` for a
landing folder; ``__BASE_URL``, ``__KEY_ID``, ``__SECRET_KEY`` for an HTTP API).

A PostgreSQL source on the warehouse's own server (no host of its own) connects with the
warehouse's user and password; one on another server never inherits them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from src._base.sources.bucket import BucketPath, is_bucket_uri
from src._base.sources.declared import (
    HttpEndpoint,
    LandingSource,
    PostgresSource,
    ResolvedSource,
    Source,
)
from src.config import PROJECT_ROOT, ConnectionSettings, Settings, parse_database_url
from src.utils.errors import ConfigError, PipelineError

Stored = Mapping[str, tuple[str, dict[str, str], dict[str, str]]]


def _stored(source: Source, stored: Stored, key: str) -> dict[str, str]:
    kind, settings, secrets = stored[key]
    if kind != source.kind:
        raise ConfigError(
            f"Source '{key}' is declared {source.kind} but stored as {kind}: store it again "
            f"(scripts/connections.py add {source.name} --kind {source.kind} ...)."
        )
    return {**settings, **secrets}


def _from_env(source: Source, env: Mapping[str, Any], prefix: str) -> dict[str, str]:
    values = {k: v for k, v in env.items() if isinstance(v, SecretStr)}
    unknown = sorted(set(values) - set(source.settings))
    if unknown:
        raise ConfigError(
            f"{prefix}__{unknown[0].upper()} is not a setting of a {source.kind} source; use "
            "one of " + ", ".join(s.upper() for s in source.settings)
        )
    return {k: v.get_secret_value() for k, v in values.items()}


def _values(
    source: Source, stored: Stored, env: Mapping[str, Any], tenant: str | None
) -> tuple[dict, str]:
    """The settings of ``source`` (for ``tenant``: its own on top): declaration < store <
    environment, the tenant's settings over the source's at each level."""
    prefix = f"MEDALLION_SOURCE__{source.name.upper()}"
    values: dict[str, str] = {}
    origin = "its declaration"
    for key in (source.name, f"{source.name}@{tenant}") if tenant else (source.name,):
        if key in stored:
            values.update(_stored(source, stored, key))
            origin = "the connections store"
    tenant_env = env.get(tenant, {}) if tenant else {}
    for found, where in ((env, prefix), (tenant_env, f"{prefix}__{(tenant or '').upper()}")):
        if any(isinstance(v, SecretStr) for v in found.values()):
            values.update(_from_env(source, found, where))
            origin = f"the environment ({where}__*)"
    return values, origin


def _postgres(
    source: PostgresSource, values: dict[str, str], warehouse: ConnectionSettings, default_db: str
) -> ConnectionSettings:
    found: dict[str, object] = {}
    if "url" in values:
        found.update(
            parse_database_url(values["url"], f"MEDALLION_SOURCE__{source.name.upper()}__URL")
        )
    for key in ("host", "user", "database"):
        if key in values:
            found[key] = values[key]
    if "port" in values:
        try:
            found["port"] = int(values["port"])
        except ValueError:
            raise ConfigError(
                f"Source '{source.name}': port {values['port']!r} is not a number "
                f"(MEDALLION_SOURCE__{source.name.upper()}__PORT)."
            ) from None
    if "password" in values:
        found["password"] = SecretStr(values["password"])
    base = warehouse.with_database(source.database or default_db)
    elsewhere = found.get("host", base.host) != base.host or found.get("port", base.port) != (
        base.port
    )
    if elsewhere:  # another server: never the warehouse's credentials
        if "user" not in found:
            raise ConfigError(
                f"Source '{source.name}' is on {found.get('host', base.host)}:"
                f"{found.get('port', base.port)}, another server than the warehouse's, and "
                f"has no user: set MEDALLION_SOURCE__{source.name.upper()}__USER (or a URL; "
                "a tenant's own: MEDALLION_SOURCE__<NAME>__<TENANT>__USER)."
            )
        base = replace(base, password=None, embedded=False)
    return replace(base, **found)  # type: ignore[arg-type]


def _landing(source: LandingSource, values: dict[str, str], settings: Settings) -> object:
    raw = values.get("path") or source.path
    if raw is None:
        return settings.landing_dir
    if not is_bucket_uri(raw):
        return PROJECT_ROOT / Path(raw.removeprefix("file://")).expanduser()
    keys = {k: SecretStr(values[k]) for k in ("key_id", "secret_key") if values.get(k)}
    return BucketPath(raw, values.get("endpoint"), values.get("region"), **keys)


def resolve_source(
    source: Source,
    settings: Settings,
    warehouse: ConnectionSettings,
    stored: Stored,
    tenant: str | None = None,
) -> ResolvedSource:
    values, origin = _values(source, stored, settings.sources.get(source.name, {}), tenant)
    if isinstance(source, PostgresSource):
        target: object = _postgres(source, values, warehouse, settings.source_database)
    elif isinstance(source, LandingSource):
        target = _landing(source, values, settings)
    else:
        secret = {k: SecretStr(values[k]) for k in ("key_id", "secret_key") if values.get(k)}
        target = HttpEndpoint(values.get("base_url") or source.base_url, **secret)
    return ResolvedSource(source.name, source.kind, target, origin)  # type: ignore[arg-type]


def resolve_sources(
    declared: tuple[Source, ...],
    settings: Settings,
    warehouse: ConnectionSettings,
    stored: Callable[[], Stored],
    tenant: str | None = None,
) -> dict[str, ResolvedSource]:
    """Every declared source, resolved (the store is read when the project declares any);
    for ``tenant``, with the tenant's own settings where it has some."""
    rows = stored() if declared else {}
    return {s.name: resolve_source(s, settings, warehouse, rows, tenant) for s in declared}


def probe(source: ResolvedSource, timeout: float) -> str | None:
    """None when the source answers within ``timeout`` seconds, else the reason."""
    target = source.target
    if isinstance(target, ConnectionSettings):
        from src.utils.connections import connect_raw

        try:
            connect_raw(replace(target, connect_timeout=max(1, int(timeout)))).close()
        except Exception as exc:  # any driver error is the answer we report
            return " ".join(str(exc).split()) or type(exc).__name__
        return None
    if isinstance(target, Path):
        return None if target.is_dir() else f"folder {target} does not exist"
    if isinstance(target, BucketPath):
        return target.problem()
    import httpx

    started = time.monotonic()
    try:
        httpx.get(target.base_url, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} after {time.monotonic() - started:.1f}s: {exc}"
    return None


def require_reachable(source: ResolvedSource, transform: str, timeout: float) -> None:
    """Fail a load whose source does not answer, naming the source, where and what to set."""
    reason = probe(source, timeout)
    if reason is not None:
        raise PipelineError(
            f"{transform}: source '{source.name}' ({source.kind}, {source.describe()}, from "
            f"{source.origin}) is unreachable: {reason}. Fix: {source.fix()}."
        )


def project_sources(
    settings: Settings, warehouse: ConnectionSettings, project: str, tenant: str | None = None
) -> dict[str, ResolvedSource]:
    """The sources ``project`` declares, resolved against the environment and the
    connections store in its warehouse database (``warehouse``; none if it does not
    exist yet)."""
    from src._base.build.databases import database_exists
    from src._base.build.discovery import project_marker
    from src._base.sources import store
    from src.utils.connections import connect_raw

    def stored() -> Stored:
        if not database_exists(warehouse, warehouse.database):
            return {}  # not built yet: nothing can be stored there
        raw = connect_raw(warehouse)
        try:
            return store.read_all(
                raw, lambda: store.keyring(settings.connections_key, settings.connections_key_file)
            )
        finally:
            raw.close()

    declared = project_marker(settings.src_path, project).sources
    return resolve_sources(declared, settings, warehouse, stored, tenant)

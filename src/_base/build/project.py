"""What a database project declares about itself.

``src/<db>/<db>.py`` is the project's marker: it must define ``DATABASE``::

    DATABASE = DatabaseProject(name="demo", description="Brokerage warehouse")

``src/<db>/schemas/<schema>.py`` defines ``SCHEMA = Schema(name=..., layer=...)``;
``src/<db>/tables/<schema>/<table>.py`` holds one table class each;
``src/<db>/data/<schema>.py`` defines ``REFERENCE_DATA = {Model: [row, ...]}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from src.utils.errors import ConfigError, DefinitionError

LAYERS = ("common", "bronze", "silver", "gold")
ENV_NAME = re.compile(r"^[a-z][a-z0-9]{0,15}$")
ENV_SEPARATOR = "__"


def check_env(env: str | None) -> str | None:
    """An environment name (``dev``, ``prod``, ``ci2``): lower-case letters and digits."""
    if env is not None and not ENV_NAME.match(env):
        raise ConfigError(
            f"Environment {env!r} (--env or MEDALLION_ENV): use 1-16 lower-case letters and "
            "digits, starting with a letter (dev, prod, ci2)."
        )
    return env or None


TENANT_PREFIX = "tenant_"


def tenant_schema(tenant: str, schema: str) -> str:
    """Where tenant ``tenant`` keeps what the project puts in ``schema``."""
    return f"{TENANT_PREFIX}{tenant}_{schema}"


# A tenant's source settings nest under the source's (MEDALLION_SOURCE__ERP__ACME__HOST):
# a tenant may not be named like a setting.
SETTING_NAMES = ("url", "host", "port", "user", "password", "database", "path")


def check_tenant(tenant: str, where: str) -> str:
    if not isinstance(tenant, str) or not ENV_NAME.match(tenant) or tenant in SETTING_NAMES:
        raise DefinitionError(
            f"Tenant {tenant!r} ({where}): use 1-16 lower-case letters and digits, starting "
            "with a letter, not a source setting's name (host, port, ...): it names schemas "
            "tenant_<id>_<layer>, a role, and MEDALLION_SOURCE__<NAME>__<TENANT>__ settings."
        )
    return tenant


def warehouse_database(project: str, env: str | None) -> str:
    """The database holding ``project`` in environment ``env``: ``demo__dev``; without an
    environment, the project's own name. Everything a run keeps (load log, system time,
    quarantine, connections store, API role) lives in that database, so environments
    share nothing but the server."""
    env = check_env(env)
    return f"{project}{ENV_SEPARATOR}{env}" if env else project
DATA_LAYERS = LAYERS[1:]  # what data flows through, in order; common is shared by all


@dataclass(frozen=True)
class DatabaseProject:
    """The marker object of a database project (``DATABASE`` in ``src/<db>/<db>.py``)."""

    name: str
    description: str = ""
    # Named sources its transforms read (src._base.sources.declared).
    sources: tuple[Any, ...] = ()
    # Tenants: each gets the data layers' schemas of its own (tenant_<id>_<schema>), built
    # from the same classes, and a role that reaches those only (see tenant_schema).
    tenants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    """One schema (``SCHEMA`` in ``src/<db>/schemas/<schema>.py``)."""

    name: str
    layer: str | None = None
    description: str = ""


@dataclass
class LoadedProject:
    """A discovered project with everything its modules declare."""

    project: DatabaseProject
    folder: Any  # pathlib.Path
    schemas: list[Schema] = field(default_factory=list)
    models: list[type] = field(default_factory=list)
    reference_data: dict[type, list[dict[str, Any]]] = field(default_factory=dict)
    data_sources: dict[type, str] = field(default_factory=dict)  # model -> data file
    env: str | None = None  # the environment it is built in (see warehouse_database)

    @property
    def name(self) -> str:
        return self.project.name

    @property
    def tenants(self) -> tuple[str, ...]:
        return self.project.tenants

    @property
    def tenant_layers(self) -> list[str]:
        """The schemas every tenant has a copy of: the data layers' (not ``common``)."""
        return [s.name for s in self.schemas if (s.layer or s.name) in DATA_LAYERS]

    @property
    def database(self) -> str:
        """The database it is built into: its name, or ``<name>__<env>``."""
        return warehouse_database(self.project.name, self.env)

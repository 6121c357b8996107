"""Named sources a database project declares, and what they resolve to at run time.

A project lists its sources on its marker (``src/<db>/<db>.py``)::

    DATABASE = DatabaseProject(
        name="shop",
        sources=(
            PostgresSource("erp", database="erp"),        # an operational database
            LandingSource("drops", path="/data/landing"),  # a folder of files
            HttpSource("binance", base_url="https://api.binance.com"),
        ),
    )

and a transform reads one by name (``SourceTable("public.order", source="erp")``). Where
a source really is comes from, highest precedence first: the environment
(``MEDALLION_SOURCE__<NAME>__HOST`` ... or ``__URL``), the encrypted connections store in
the warehouse (``scripts/connections.py``), then the declaration's defaults (see
:mod:`src._base.sources.resolve`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr

from src._base.sources.bucket import BucketPath
from src.config import ConnectionSettings
from src.utils.errors import DefinitionError

SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class PostgresSource:
    """A PostgreSQL database read by bronze loads. Without settings of its own it is
    ``database`` (default: ``MEDALLION_SOURCE_DATABASE``) on the warehouse's server."""

    name: str
    database: str | None = None
    description: str = ""
    kind: ClassVar[str] = "postgres"
    settings: ClassVar[tuple[str, ...]] = ("url", "host", "port", "user", "password", "database")


@dataclass(frozen=True)
class LandingSource:
    """A folder of landed files (default: ``MEDALLION_LANDING_DIR``; a relative path is
    taken from the checkout's root), or a bucket: ``s3://bucket/prefix``."""

    name: str
    path: str | None = None
    description: str = ""
    kind: ClassVar[str] = "landing"
    # path: a folder, or s3://bucket/prefix (endpoint: an S3-compatible store's URL)
    settings: ClassVar[tuple[str, ...]] = ("path", "endpoint", "region", "key_id", "secret_key")


@dataclass(frozen=True)
class HttpSource:
    """An HTTP API (a market-data vendor): its base URL and, if it needs them, keys."""

    name: str
    base_url: str = ""
    description: str = ""
    kind: ClassVar[str] = "http"
    settings: ClassVar[tuple[str, ...]] = ("base_url", "key_id", "secret_key")


Source = PostgresSource | LandingSource | HttpSource
SOURCE_TYPES = (PostgresSource, LandingSource, HttpSource)
KINDS = {t.kind: t for t in SOURCE_TYPES}
SECRET_SETTINGS = ("password", "secret_key", "key_id", "url")


@dataclass(frozen=True)
class HttpEndpoint:
    base_url: str
    key_id: SecretStr | None = None
    secret_key: SecretStr | None = None


@dataclass(frozen=True)
class ResolvedSource:
    """A declared source with the place it resolved to, and where that came from."""

    name: str
    kind: str
    target: ConnectionSettings | Path | HttpEndpoint | BucketPath
    origin: str  # "environment (MEDALLION_SOURCE__ERP__*)", "connections store", ...

    def describe(self) -> str:
        """Where it is, safe to log (no password)."""
        if isinstance(self.target, ConnectionSettings):
            return self.target.describe()
        if isinstance(self.target, HttpEndpoint):
            return self.target.base_url
        return str(self.target)

    def fix(self) -> str:
        """The settings that move it, for error messages."""
        if self.name == "default":
            return (
                f"declare the source on the project's DATABASE (sources=...) and name it in "
                f"the transform, or correct {self.origin}"
            )
        keys = "/".join(s.upper() for s in KINDS[self.kind].settings)
        return (
            f"set MEDALLION_SOURCE__{self.name.upper()}__{{{keys}}}, or store it with "
            f"scripts/connections.py add {self.name} --kind {self.kind} ..."
        )


def check_declarations(sources: tuple[Source, ...], marker: str) -> None:
    """Source names are unique snake_case names, of the known kinds."""
    seen: set[str] = set()
    for source in sources:
        if not isinstance(source, SOURCE_TYPES):
            raise DefinitionError(
                f"{marker}: sources holds {source!r}; declare PostgresSource, LandingSource "
                "or HttpSource (src._base.sources.declared)."
            )
        if not SOURCE_NAME.match(source.name) or source.name in seen:
            raise DefinitionError(
                f"{marker}: source name {source.name!r} must be a unique snake_case name "
                "(it becomes MEDALLION_SOURCE__<NAME>__...)."
            )
        seen.add(source.name)

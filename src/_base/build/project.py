"""What a database project declares about itself.

``src/<db>/<db>.py`` is the project's marker: it must define ``DATABASE``::

    DATABASE = DatabaseProject(name="demo", description="Brokerage warehouse")

``src/<db>/schemas/<schema>.py`` defines ``SCHEMA = Schema(name=..., layer=...)``;
``src/<db>/tables/<schema>/<table>.py`` holds one table class each;
``src/<db>/data/<schema>.py`` defines ``REFERENCE_DATA = {Model: [row, ...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LAYERS = ("common", "bronze", "silver", "gold")
DATA_LAYERS = LAYERS[1:]  # what data flows through, in order; common is shared by all


@dataclass(frozen=True)
class DatabaseProject:
    """The marker object of a database project (``DATABASE`` in ``src/<db>/<db>.py``)."""

    name: str
    description: str = ""


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

    @property
    def name(self) -> str:
        return self.project.name

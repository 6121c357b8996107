"""Ports of a project's transforms to other platforms, generated from the catalogue, and
their proof here (:mod:`.proof`).

    port = generate_port(settings, "demo", "snowflake")
    port.write(Path("port/snowflake"))

Targets: ``databricks`` (a Lakeflow Declarative Pipelines project, :mod:`.databricks`) and
``snowflake`` (SQL scripts, :mod:`.snowflake`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from src._base.pipeline.catalogue import load_catalogue, project_tables
from src._base.ports.common import Port
from src._base.ports.databricks import databricks_port
from src._base.ports.snowflake import snowflake_port
from src.utils.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from src.config import Settings

TARGETS = ("databricks", "snowflake")


def generate_port(
    settings: Settings, database: str, target: str, rules: Sequence[Any] = ()
) -> Port:
    """``database``'s port to ``target``, from its catalogue and table classes; ``rules``:
    its data-quality rules (:func:`src.orchestration.local_airflow.quality_rules`), which
    the Databricks port carries as expectations."""
    if target not in TARGETS:
        raise ConfigError(f"Unknown port target '{target}'. Targets: {', '.join(TARGETS)}.")
    catalogue = load_catalogue(settings.src_path, database)
    tables = project_tables(settings.src_path, database)
    if target == "databricks":
        return databricks_port(catalogue, tables, settings.source_database, rules)
    return snowflake_port(catalogue, tables, settings.source_database)

"""A tenant's copy of a project's tables: the same classes, in the tenant's schemas.

    pairs = tenant_tables(models, "acme", ["bronze", "silver", "gold"])
    # [(SilverTrade, Table('trade', schema='tenant_acme_silver')), ...]

Only tables of the tenant's layers are copied; a foreign key into one of those layers
points at the tenant's copy, a key into a shared schema (``common``) stays shared. Each
(project, tenant) has a ``MetaData`` of its own, made once.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import MetaData, Table

from src._base.build.project import tenant_schema
from src._base.tables.ddl import table_of

_METADATA: dict[tuple[int, str], MetaData] = {}


def tenant_tables(
    models: Sequence[type], tenant: str, layers: Sequence[str]
) -> list[tuple[type, Table]]:
    """``(class, the tenant's Table)`` for each class whose schema is one of ``layers``."""
    own = [m for m in models if table_of(m).schema in layers]
    if not own:
        return []
    key = (id(table_of(own[0]).metadata), tenant)
    metadata = _METADATA.setdefault(key, MetaData())

    def referred(table: Table, to_schema: object, constraint: object, referred: str) -> str:
        return tenant_schema(tenant, referred) if referred in layers else referred

    for model in models:  # shared tables a copy refers to must resolve in its metadata
        source = table_of(model)
        if source.schema not in layers and source.fullname not in metadata.tables:
            source.to_metadata(metadata)
    pairs = []
    for model in own:
        source = table_of(model)
        schema = tenant_schema(tenant, source.schema)
        copy = metadata.tables.get(f"{schema}.{source.name}")
        if copy is None:
            copy = source.to_metadata(metadata, schema=schema, referred_schema_fn=referred)
        pairs.append((model, copy))
    return pairs

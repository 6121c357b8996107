"""What the API serves, derived from a project's table classes.

One :class:`Resource` per table of the served layers: its URL path, the columns, the key
to look rows up and page by, the columns it can be filtered on (the key and indexed
columns: a filter the database cannot answer from an index is not offered), and a
Pydantic model of a row, so the OpenAPI document says exactly what comes back. A temporal
table is served under its current-state view's name (``silver/instrument`` for
``silver.instrument_hist``) and carries its ``sys_start``/``sys_end``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import Column, Table

from src._base.build.roles import API_SCHEMAS
from src._base.functions.temporal import SYSTEM_COLUMNS
from src._base.tables.ddl import table_of
from src._base.tables.table_types import TEMPORAL

SERVED_LAYERS = API_SCHEMAS


@dataclass(frozen=True)
class Resource:
    """One served table."""

    schema: str
    name: str  # in URLs: the view's name for a temporal table
    table: Table
    keys: tuple[str, ...]  # the business key, in order (no system column)
    filters: tuple[str, ...]  # columns a list can be filtered on: the key, indexed ones
    temporal: bool
    doc: str
    row: type[BaseModel]

    @property
    def path(self) -> str:
        return f"/{self.schema}/{self.name}"

    def python_type(self, column: str) -> type:
        return python_type(self.table.c[column])


def python_type(column: Column) -> type:
    """The Python type a column's values come back as (``Any`` when SQLAlchemy has none)."""
    try:
        kind = column.type.python_type
    except NotImplementedError:  # JSON and other types without one
        return Any  # type: ignore[return-value]
    known = (str, int, float, bool, decimal.Decimal, dt.date, dt.datetime, uuid.UUID)
    return kind if kind in known else Any


def _row_model(schema: str, name: str, table: Table, temporal: bool) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for column in table.columns:
        kind = python_type(column)
        if temporal and column.name == "sys_end":
            fields[column.name] = (
                dt.datetime | None,
                Field(None, description="end of the version's validity; null while current"),
            )
            continue
        nullable = column.nullable and not column.primary_key
        fields[column.name] = (
            kind | None if nullable else kind,
            Field(None if nullable else ..., description=column.comment or None),
        )
    title = "".join(part.title() for part in f"{schema}_{name}".split("_"))
    return create_model(title, __config__=ConfigDict(from_attributes=True), **fields)


def _filters(table: Table, keys: Sequence[str]) -> tuple[str, ...]:
    indexed = [c.name for index in table.indexes for c in index.columns]
    wanted = [*keys, *indexed]
    return tuple(
        dict.fromkeys(
            c for c in wanted if c not in SYSTEM_COLUMNS and python_type(table.c[c]) is not Any
        )
    )


def resource_of(model: type) -> Resource:
    table = table_of(model)
    temporal = getattr(model, "__table_type__", None) is TEMPORAL
    keys = tuple(c.name for c in table.primary_key.columns if c.name not in SYSTEM_COLUMNS)
    name = table.name.removesuffix("_hist") if temporal else table.name
    schema = table.schema or "public"
    doc = " ".join((model.__doc__ or "").split())
    return Resource(
        schema=schema,
        name=name,
        table=table,
        keys=keys,
        filters=_filters(table, keys),
        temporal=temporal,
        doc=doc,
        row=_row_model(schema, name, table, temporal),
    )


def resources_of(models: Iterable[type], layers: Sequence[str] = SERVED_LAYERS) -> list[Resource]:
    """The resources of ``models`` whose schema is one of ``layers``, by path."""
    found = [resource_of(m) for m in models if (table_of(m).schema or "public") in layers]
    return sorted(found, key=lambda r: r.path)

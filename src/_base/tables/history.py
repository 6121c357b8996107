"""Point-in-time reads of temporal tables from Python, matching the generated SQL functions.

    from src._base.tables.history import as_of
    with Session(engine) as session:
        rows = session.exec(as_of(InstrumentHist, yesterday)).all()

``as_of`` selects what ``<view>__as_of(ts)`` returns, ``between`` what
``<view>__between(a, b)`` returns; ``current`` is the view, ``all_versions`` the table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import literal
from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from src._base.tables.ddl import table_of
from src._base.tables.table_types import TEMPORAL
from src.utils.errors import DefinitionError


def _require_temporal(model: type) -> None:
    if getattr(model, "__table_type__", None) is not TEMPORAL:
        raise DefinitionError(
            f"{model.__module__}.{model.__qualname__} is not a temporal table; point-in-time "
            "reads need a class inheriting TemporalTableBase."
        )


def _ordered(model: type, query: SelectOfScalar) -> SelectOfScalar:
    table = table_of(model)
    return query.order_by(*table.primary_key.columns)


def as_of(model: type, at_time: datetime) -> SelectOfScalar:
    """Versions valid at ``at_time`` (``sys_start <= at_time < sys_end``)."""
    _require_temporal(model)
    table = table_of(model)
    query = select(model).where(table.c.sys_start <= at_time, table.c.sys_end > at_time)
    return _ordered(model, query)


def between(model: type, from_time: datetime, to_time: datetime) -> SelectOfScalar:
    """Versions valid at any instant of ``[from_time, to_time)``."""
    _require_temporal(model)
    table = table_of(model)
    query = select(model).where(table.c.sys_start < to_time, table.c.sys_end > from_time)
    return _ordered(model, query)


def current(model: type) -> SelectOfScalar:
    """Current versions: what the paired view shows."""
    _require_temporal(model)
    table = table_of(model)
    return _ordered(model, select(model).where(table.c.sys_end == literal("infinity")))


def all_versions(model: type) -> SelectOfScalar:
    """Every version of every key, oldest first within a key."""
    _require_temporal(model)
    return _ordered(model, select(model))

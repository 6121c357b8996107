"""The metaclass behind every table class: table names, and the columns a table type adds.

A table type's columns (``is_active``, ``sys_start``, ...) are added to each table class
as fresh fields *after* the user's own, so they come last in the table and in a
temporal table's primary key (business key first, then ``sys_start``). Fresh fields
mean no ``Column`` object is ever shared between two tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Boolean
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelMetaclass

from src._base.columns import server_default, smallint_key, timestamptz, utc_now, uuid_key
from src._base.functions.system_time import SYSTEM_TIME_CALL
from src._base.naming import snake_case
from src._base.tables.projects import adopt, claim_table, mapping, project_package
from src._base.tables.table_types import REFERENCE, TEMPORAL, TRANSACTIONAL, TableType
from src.utils.errors import DefinitionError

FieldSpec = tuple[Any, Any]  # (annotation, FieldInfo)


def _reference_fields(table: str, needs_key: bool, key_column: str) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {}
    if needs_key:
        fields[f"{table}_id"] = (int, smallint_key())
    fields["is_active"] = (
        bool,
        Field(
            default=True, nullable=False, sa_type=Boolean, sa_column_kwargs=server_default("true")
        ),
    )
    fields["systime"] = (
        datetime,
        timestamptz(default_factory=utc_now, nullable=False, server="now()"),
    )
    return fields


def _transactional_fields(table: str, needs_key: bool, key_column: str) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {}
    if needs_key:
        fields[f"{table}_id"] = (uuid.UUID, uuid_key())
    fields["effective_time"] = (
        datetime,
        timestamptz(default_factory=utc_now, nullable=False, server="now()"),
    )
    return fields


def _temporal_fields(table: str, needs_key: bool, key_column: str) -> dict[str, FieldSpec]:
    start = timestamptz(
        default=None, primary_key=key_column == "sys_start", nullable=False, server=SYSTEM_TIME_CALL
    )
    end = timestamptz(
        default=None, primary_key=key_column == "sys_end", nullable=False, server="'infinity'"
    )
    return {"sys_start": (datetime | None, start), "sys_end": (datetime | None, end)}


SYSTEM_FIELDS: dict[str, Callable[[str, bool, str], dict[str, FieldSpec]]] = {
    REFERENCE.name: _reference_fields,
    TRANSACTIONAL.name: _transactional_fields,
    TEMPORAL.name: _temporal_fields,
}


def _declares_primary_key(bases: tuple[type, ...], namespace: dict[str, Any]) -> bool:
    own = any(getattr(value, "primary_key", False) is True for value in namespace.values())
    inherited = any(
        getattr(info, "primary_key", False) is True
        for base in bases
        for info in getattr(base, "model_fields", {}).values()
    )
    return own or inherited


TEMPORAL_KEY_COLUMNS = ("sys_start", "sys_end")
HISTORY_LAYOUTS = ("single", "partitioned")
PARTITION_BY = "RANGE (sys_end)"


def _class_setting(bases: tuple[type, ...], namespace: dict[str, Any], name: str, default: Any):
    if name in namespace:
        return namespace[name]
    return next((getattr(b, name) for b in bases if hasattr(b, name)), default)


def _partitioned(bases: tuple[type, ...], namespace: dict[str, Any], table: str) -> bool:
    """Whether a temporal class asks for the partitioned history layout; if it does, its
    ``__table_args__`` gain the partitioning (by ``sys_end``: current rows apart from
    closed versions) and its primary key is (business key, sys_end)."""
    layout = _class_setting(bases, namespace, "__history_layout__", "single")
    if layout not in HISTORY_LAYOUTS:
        raise DefinitionError(
            f"__history_layout__ = {layout!r} on {table}: allowed values are "
            + ", ".join(repr(k) for k in HISTORY_LAYOUTS)
        )
    if layout == "single":
        return False
    if namespace.get("__temporal_key__", "sys_end") != "sys_end":
        raise DefinitionError(
            f"__history_layout__ = 'partitioned' on {table} keys versions by sys_end (the "
            "partitioning column must be in the primary key): drop __temporal_key__."
        )
    args = namespace.get("__table_args__", {})
    partition = {"postgresql_partition_by": PARTITION_BY}
    if isinstance(args, dict):
        namespace["__table_args__"] = {**args, **partition}
    else:  # (constraints..., options?)
        has_options = bool(args) and isinstance(args[-1], dict)
        head, options = (args[:-1], args[-1]) if has_options else (args, {})
        namespace["__table_args__"] = (*head, {**options, **partition})
    return True


def table_type_of(bases: tuple[type, ...], namespace: dict[str, Any]) -> TableType | None:
    if "__table_type__" in namespace:
        return namespace["__table_type__"]
    for base in bases:
        found = getattr(base, "__table_type__", None)
        if found is not None:
            return found
    return None


class TableTypeMeta(SQLModelMetaclass):
    """Infers ``__tablename__`` and appends the table type's columns to ``table=True`` classes."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> Any:
        if kwargs.get("table"):
            namespace.setdefault("__tablename__", snake_case(name))
            table_type = table_type_of(bases, namespace)
            if table_type is not None:
                mcs._add_system_fields(namespace, bases, table_type)
        package = project_package(namespace.get("__module__", "")) if kwargs.get("table") else None
        replacing = package is not None and claim_table(package, name, namespace)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if package is not None:
            adopt(cls, package, replacing)
        return cls

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kw: Any):
        with mapping(cls):
            super().__init__(name, bases, namespace, **kw)

    @staticmethod
    def _add_system_fields(
        namespace: dict[str, Any], bases: tuple[type, ...], table_type: TableType
    ) -> None:
        table = namespace["__tablename__"]
        needs_key = table_type is not TEMPORAL and not _declares_primary_key(bases, namespace)
        declared = dict(namespace.get("__annotations__", {}))
        leading: dict[str, Any] = {}
        trailing: dict[str, Any] = {}
        key_column = _class_setting(bases, namespace, "__temporal_key__", "sys_start")
        if key_column not in TEMPORAL_KEY_COLUMNS:
            raise DefinitionError(
                f"__temporal_key__ = {key_column!r} on {table}: allowed values are "
                + ", ".join(repr(k) for k in TEMPORAL_KEY_COLUMNS)
            )
        if table_type.versioned and _partitioned(bases, namespace, table):
            key_column = "sys_end"
        fields = SYSTEM_FIELDS[table_type.name](table, needs_key, key_column)
        for field_name, (annotation, info) in fields.items():
            if field_name in declared:
                continue  # the class declares it itself; the validator checks its type
            # A generated key leads the table; the other system columns close it.
            target = (
                leading if getattr(info, "primary_key", False) is True and needs_key else trailing
            )
            target[field_name] = annotation
            namespace[field_name] = info
        namespace["__annotations__"] = {**leading, **declared, **trailing}


class MedallionModel(SQLModel, metaclass=TableTypeMeta):
    """Root of every table class in a database project."""

    __table_type__: ClassVar[TableType | None] = None

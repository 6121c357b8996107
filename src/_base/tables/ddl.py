"""Render a table class into the PostgreSQL DDL the build runs, grouped by build phase.

Rendering needs no server: the same text is pinned by golden files in the tests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from src._base.functions import temporal
from src._base.naming import qualified
from src._base.tables.table_types import TableType
from src.utils.errors import DefinitionError

DIALECT = postgresql.dialect()


@dataclass(frozen=True)
class TableDDL:
    """All statements for one table, in the order the build phases run them."""

    qualified_name: str
    table_type: TableType | None
    create_table: str
    indexes: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)  # a partitioned history's
    # Keyed by the name the catalog gives them: schema.function, schema.table.trigger, ...
    functions: dict[str, str] = field(default_factory=dict)
    triggers: dict[str, str] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)

    def statements(self) -> list[str]:
        return [
            self.create_table,
            *self.partitions,
            *self.indexes,
            *self.functions.values(),
            *self.triggers.values(),
            *self.views.values(),
        ]

    def script(self) -> str:
        """Every statement, ``;``-terminated: what a golden file holds."""
        return "".join(f"{stmt.strip()};\n\n" for stmt in self.statements())


def execute_ddl(connection: Connection, statement: str) -> None:
    """Run one DDL statement verbatim (no parameter interpolation: bodies contain ``%``)."""
    with connection.connection.cursor() as cursor:
        cursor.execute(statement)


def table_of(model: type) -> Table:
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__module__}.{model.__qualname__} is not a table (table=True)")
    return table


def partitioned_history(table: Table) -> bool:
    """Whether a table's class asks for the partitioned history layout."""
    return bool(table.dialect_options["postgresql"].get("partition_by"))


def temporal_names(
    table: Table, column_order: Sequence[str] | None = None
) -> temporal.TemporalNames:
    """The generated names of a temporal table; its columns in ``column_order`` (the
    database's, for a table that exists: a column a migration added comes last there,
    wherever the class declares it) or the table's."""
    system = set(temporal.SYSTEM_COLUMNS)
    columns = [c.name for c in table.columns if c.name not in system]
    if column_order is not None:
        position = {name: n for n, name in enumerate(column_order)}
        columns.sort(key=lambda name: position.get(name, len(position)))
    return temporal.TemporalNames(
        schema=table.schema,
        hist=table.name,
        keys=tuple(c.name for c in table.primary_key.columns if c.name not in system),
        columns=tuple(columns),
        key_column="sys_end" if "sys_end" in table.primary_key.columns else "sys_start",
        partitioned=partitioned_history(table),
    )


def versioning_ddl(names: temporal.TemporalNames, ddl: TableDDL) -> None:
    """Add what versioning derives from a temporal table to ``ddl``: the period check and
    current-key index, the trigger functions and triggers, the current-state view and the
    as-of functions."""
    ddl.partitions.extend(temporal.partitions(names))
    ddl.indexes.extend(temporal.constraints(names))
    ddl.functions.update(temporal.trigger_functions(names))
    ddl.functions.update(temporal.as_of_functions(names))
    ddl.triggers.update(temporal.triggers(names))
    ddl.views.update(temporal.current_view(names))


SAFE_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_identifiers(model: type, table: Table) -> None:
    """Refuse names the generated SQL could not carry safely (quotes, ``%``, ``$``...)."""
    names = [table.schema, table.name, *(c.name for c in table.columns)]
    bad = [name for name in names if name is not None and not SAFE_IDENTIFIER.match(name)]
    if bad:
        raise DefinitionError(
            f"{model.__module__}.{model.__qualname__}: identifier(s) {', '.join(map(repr, bad))} "
            "may only use letters, digits and underscores (snake_case). Rename them."
        )


def render_table(
    model: type, column_order: Sequence[str] | None = None, table: Table | None = None
) -> TableDDL:
    """The DDL for one table class, including what its table type adds (see
    :func:`temporal_names` for ``column_order``); ``table``: a copy of the class's table
    elsewhere (a tenant's, see :mod:`src._base.tables.tenants`)."""
    table = table if table is not None else table_of(model)
    check_identifiers(model, table)
    table_type: TableType | None = getattr(model, "__table_type__", None)
    create = str(CreateTable(table).compile(dialect=DIALECT)).strip()
    indexes = [
        str(CreateIndex(index).compile(dialect=DIALECT)).strip()
        for index in sorted(table.indexes, key=lambda i: i.name or "")
    ]
    ddl = TableDDL(qualified(table.schema, table.name), table_type, create, indexes)
    if table_type is not None and table_type.versioned:
        versioning_ddl(temporal_names(table, column_order), ddl)
    return ddl

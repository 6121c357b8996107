"""Alembic operations for temporal tables, usable in any revision as ``op.<name>``.

    op.drop_current_view("instrument_hist", schema="silver")
    op.add_column("instrument_hist", sa.Column("isin", sa.String(12)), schema="silver")
    op.regenerate_versioning("instrument_hist", schema="silver",
                             keys=["instrument_code"], columns=[..., "isin"])
    op.rename_temporal_column("instrument_hist", "name", "long_name", schema="silver")

Autogenerate writes the first three around every column change of a temporal table
(:mod:`.autogenerate`); ``rename_temporal_column`` is for renames, which it cannot
detect. ``columns`` are the table's non-system columns after the change, in the
database's order; without them (hand-written revisions) they are read from the database,
which offline SQL (``--sql``) cannot do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import MigrateOperation, Operations

from src._base.functions.temporal import TRIGGER_NAMES, TemporalNames
from src._base.migrations import versioning
from src._base.naming import qualified, quote
from src._base.tables.ddl import execute_ddl
from src.utils.errors import ConfigError


class VersioningOp(MigrateOperation):
    """One table's versioning objects; ``columns`` and ``keys`` as the table has them
    once the revision's change is made (None: read from the database)."""

    name = ""  # the op.<name> it is called as
    by_name = False  # True: the table's name is all the statements need, never its columns

    def __init__(
        self,
        table_name: str,
        *,
        schema: str,
        keys: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        key_column: str = "sys_start",
        partitioned: bool = False,
    ) -> None:
        self.table_name, self.schema, self.key_column = table_name, schema, key_column
        self.keys = list(keys) if keys is not None else None
        self.columns = list(columns) if columns is not None else None
        self.partitioned = partitioned

    @classmethod
    def call(cls, operations: Operations, table_name: str, **kwargs: Any) -> Any:
        return operations.invoke(cls(table_name, **kwargs))

    def names(self, operations: Operations) -> TemporalNames:
        if self.by_name:
            return versioning.names_of(
                self.schema, self.table_name, [], [], self.key_column, self.partitioned
            )
        given = (self.keys, self.columns, self.key_column, self.partitioned)
        return table_names(operations, f"op.{self.name}", self.schema, self.table_name, given)

    def statements(self, names: TemporalNames) -> list[str]:
        raise NotImplementedError

    def render(self) -> str:
        return render_call(self.name, self.table_name, self.schema, {
            "keys": (self.keys, None),
            "columns": (self.columns, None),
            "key_column": (self.key_column, "sys_start"),
            "partitioned": (self.partitioned and not self.by_name, False),
        })  # fmt: skip


def render_call(name: str, table: str, schema: str, options: dict[str, tuple[Any, Any]]) -> str:
    """``op.<name>('table', schema=..., ...)`` with each option that differs from its default
    (``options``: name -> (value, default))."""
    args = [repr(table), f"schema={schema!r}"]
    args += [f"{key}={value!r}" for key, (value, default) in options.items() if value != default]
    return f"op.{name}({', '.join(args)})"


def table_names(
    operations: Operations, call: str, schema: str, table: str, given: tuple
) -> TemporalNames:
    """A table's names from what a revision carries (``given``: keys, columns, key
    column, partitioned), else read from the database (which offline SQL cannot do)."""
    keys, columns, key_column, partitioned = given
    if keys is not None and columns is not None:
        return versioning.names_of(schema, table, keys, columns, key_column, partitioned)
    if operations.migration_context.as_sql:
        raise ConfigError(
            f"{call}('{table}', schema='{schema}'): offline SQL (--sql) cannot read the "
            "table's columns; give keys=[...] and columns=[...] (the non-system columns "
            "after the change, in the database's order)."
        )
    return versioning.reflected_names(operations.get_bind(), schema, table)


def run_sql(operations: Operations, statements: Sequence[str]) -> None:
    """Run statements verbatim (function bodies hold ``%`` and ``:``), or print them."""
    context = operations.migration_context
    if context.as_sql:
        for statement in statements:
            context.impl.static_output(statement.strip() + ";")
        return
    connection = operations.get_bind()
    for statement in statements:
        execute_ddl(connection, statement)


def _register(cls: type[VersioningOp]) -> type[VersioningOp]:
    Operations.register_operation(cls.name, "call")(cls)

    @Operations.implementation_for(cls)
    def run(operations: Operations, operation: VersioningOp) -> None:
        run_sql(operations, operation.statements(operation.names(operations)))

    @renderers.dispatch_for(cls)
    def render(context: AutogenContext, operation: VersioningOp) -> str:
        return operation.render()

    return cls


@_register
class DropCurrentViewOp(VersioningOp):
    """Drop the current-state view, keeping its grants (before a column change)."""

    name = "drop_current_view"
    by_name = True

    def statements(self, names: TemporalNames) -> list[str]:
        return versioning.drop_view_sql(names)


@_register
class RegenerateVersioningOp(VersioningOp):
    """Rebuild trigger functions, view and as-of functions (after a column change)."""

    name = "regenerate_versioning"

    def statements(self, names: TemporalNames) -> list[str]:
        return versioning.regenerate_sql(names)


@_register
class CreateVersioningOp(VersioningOp):
    """Everything the build adds to a new temporal table (after ``create_table``)."""

    name = "create_versioning"

    def statements(self, names: TemporalNames) -> list[str]:
        return versioning.create_sql(names)


@_register
class DropVersioningOp(VersioningOp):
    """Everything ``create_versioning`` made (before ``drop_table``)."""

    name = "drop_versioning"
    by_name = True

    def statements(self, names: TemporalNames) -> list[str]:
        return versioning.drop_sql(names)


@Operations.register_operation("convert_history_layout")
class ConvertHistoryLayoutOp(MigrateOperation):
    """Store a temporal table in the other history layout (``"partitioned"`` or
    ``"single"``, keyed by ``single_key``), keeping every version, grant and index."""

    def __init__(
        self,
        table_name: str,
        *,
        schema: str,
        layout: str,
        single_key: str = "sys_start",
        keys: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        if layout not in ("partitioned", "single"):
            raise ConfigError(
                f"op.convert_history_layout('{table_name}', layout={layout!r}): the layouts "
                "are 'partitioned' and 'single'."
            )
        self.table_name, self.schema, self.layout, self.single_key = (
            table_name, schema, layout, single_key
        )  # fmt: skip
        self.keys = list(keys) if keys is not None else None
        self.columns = list(columns) if columns is not None else None

    @classmethod
    def convert_history_layout(cls, operations: Operations, table_name: str, **kwargs: Any) -> Any:
        return operations.invoke(cls(table_name, **kwargs))

    def reverse(self) -> ConvertHistoryLayoutOp:
        other = "single" if self.layout == "partitioned" else "partitioned"
        return ConvertHistoryLayoutOp(
            self.table_name, schema=self.schema, layout=other, single_key=self.single_key,
            keys=self.keys, columns=self.columns,
        )  # fmt: skip

    def source(self, operations: Operations) -> TemporalNames:
        """The table as it is before the conversion."""
        was_partitioned = self.layout == "single"
        key = "sys_end" if was_partitioned else self.single_key
        given = (self.keys, self.columns, key, was_partitioned)
        return table_names(
            operations, "op.convert_history_layout", self.schema, self.table_name, given
        )

    def render(self) -> str:
        return render_call("convert_history_layout", self.table_name, self.schema, {
            "layout": (self.layout, None),
            "single_key": (self.single_key, "sys_start"),
            "keys": (self.keys, None),
            "columns": (self.columns, None),
        })  # fmt: skip


@Operations.implementation_for(ConvertHistoryLayoutOp)
def _convert(operations: Operations, operation: ConvertHistoryLayoutOp) -> None:
    names = operation.source(operations)
    statements = versioning.convert_sql(
        names, operation.layout == "partitioned", operation.single_key
    )
    run_sql(operations, statements)


@renderers.dispatch_for(ConvertHistoryLayoutOp)
def _render_convert(context: AutogenContext, operation: ConvertHistoryLayoutOp) -> str:
    return operation.render()


@Operations.register_operation("rename_temporal_column")
class RenameTemporalColumnOp(MigrateOperation):
    """Rename a column of a temporal table in every version, and rebuild what lists it."""

    def __init__(
        self,
        table_name: str,
        old: str,
        new: str,
        *,
        schema: str,
        keys: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        self.table_name, self.old, self.new, self.schema = table_name, old, new, schema
        self.keys, self.columns = keys, columns

    @classmethod
    def rename_temporal_column(
        cls, operations: Operations, table_name: str, old: str, new: str, **kwargs: Any
    ) -> Any:
        return operations.invoke(cls(table_name, old, new, **kwargs))

    def reverse(self) -> RenameTemporalColumnOp:
        columns = None if self.columns is None else [
            self.old if c == self.new else c for c in self.columns
        ]  # fmt: skip
        keys = None if self.keys is None else [self.old if c == self.new else c for c in self.keys]
        return RenameTemporalColumnOp(
            self.table_name, self.new, self.old, schema=self.schema, keys=keys, columns=columns
        )


@Operations.implementation_for(RenameTemporalColumnOp)
def _rename(operations: Operations, operation: RenameTemporalColumnOp) -> None:
    if operations.migration_context.as_sql and (operation.columns is None or not operation.keys):
        raise ConfigError(
            f"op.rename_temporal_column('{operation.table_name}', '{operation.old}', "
            f"'{operation.new}', schema='{operation.schema}'): offline SQL (--sql) cannot read "
            "the table's columns; give keys=[...] and columns=[...] (the non-system columns "
            "after the rename, in the database's order)."
        )
    table, schema = qualified(operation.schema, operation.table_name), operation.schema
    operations.invoke(DropCurrentViewOp(operation.table_name, schema=schema))
    rename = f"ALTER TABLE {table} RENAME COLUMN {quote(operation.old)} TO {quote(operation.new)}"
    run_sql(operations, [rename])
    operations.invoke(
        RegenerateVersioningOp(
            operation.table_name, schema=schema, keys=operation.keys, columns=operation.columns
        )
    )


@Operations.register_operation("backfill_history")
class BackfillHistoryOp(MigrateOperation):
    """Set a column in every version of a temporal table, current and closed, without
    making new versions: the value a new column would have had all along.

        op.backfill_history("instrument_hist", "isin", "upper(instrument_code)",
                            schema="silver")

    ``expression`` is SQL over the row's columns. It runs as the table's owner, with
    the versioning triggers off for the UPDATE (history is rewritten in place, as
    retention and repairs do). A constant belongs in the column's ``server_default``
    instead, which PostgreSQL adds without touching a row. Every row is written while
    the revision holds the table's lock: put a large backfill in a revision of its own.
    """

    def __init__(
        self, table_name: str, column: str, expression: str, *, schema: str, where: str = ""
    ) -> None:
        self.table_name, self.column, self.expression = table_name, column, expression
        self.schema, self.where = schema, where

    @classmethod
    def backfill_history(
        cls, operations: Operations, table_name: str, column: str, expression: str, **kw: Any
    ) -> Any:
        return operations.invoke(cls(table_name, column, expression, **kw))


@Operations.implementation_for(BackfillHistoryOp)
def _backfill(operations: Operations, operation: BackfillHistoryOp) -> None:
    table = qualified(operation.schema, operation.table_name)
    where = f" WHERE {operation.where}" if operation.where else ""
    # The versioning triggers are switched off around the UPDATE (a backfill is no
    # change to version), and back on before the revision commits: switched per name, so
    # a project's own triggers still fire. Only the table's owner may do either.
    run_sql(
        operations,
        [
            *(f"ALTER TABLE {table} DISABLE TRIGGER {name}" for name in TRIGGER_NAMES),
            f"UPDATE {table} SET {quote(operation.column)} = {operation.expression}{where}",
            *(f"ALTER TABLE {table} ENABLE TRIGGER {name}" for name in TRIGGER_NAMES),
        ],
    )

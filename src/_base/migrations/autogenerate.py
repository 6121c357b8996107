"""Autogenerate that knows table types.

Around every column change of a temporal table it writes ``drop_current_view`` before
and ``regenerate_versioning`` after (with the columns the table will have, in the
database's order); a new temporal table gets ``create_versioning``, a dropped one
``drop_versioning`` first. Dropping a temporal column or table loses it from every
version of history: refused unless allowed by name (``-x allow_history_loss=...``).
The framework's own objects (the current-key index, staging tables in ``medallion``)
are never reported as drift.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from alembic.operations import ops
from sqlalchemy import Column, Connection, MetaData, inspect

from src._base.functions.temporal import SYSTEM_COLUMNS
from src._base.migrations.operations import (
    ConvertHistoryLayoutOp,
    CreateVersioningOp,
    DropCurrentViewOp,
    DropVersioningOp,
    RegenerateVersioningOp,
)
from src._base.migrations.versioning import temporal_names_of
from src._base.tables.ddl import temporal_names
from src.utils.errors import ConfigError

ALLOW_LOSS = "allow_history_loss"  # -x allow_history_loss=schema.table[.column],...


def include_name(schemas: set[str]) -> Callable[..., bool]:
    """Compare only the project's schemas."""

    def include(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        return name in schemas if type_ == "schema" else True

    return include


PARTITION = re.compile(r".+_hist_(current|closed)")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave out what the framework makes beside a table class: the current-key index,
    and the partitions of a partitioned history (``<table>_current``, ``<table>_closed``)."""
    if not reflected or compare_to is not None:
        return True
    if type_ == "index":
        return not (name or "").endswith("_current_key")
    return not (type_ == "table" and PARTITION.fullmatch(name or ""))


class Versioning:
    """``process_revision_directives`` for a project (its tables in ``metadata``);
    ``allowed``: the losses named on the command line."""

    def __init__(self, metadata: MetaData, allowed: set[str]):
        self.metadata = metadata
        self.schemas = {t.schema for t in metadata.tables.values() if t.schema}
        self.allowed = allowed
        self.layouts: dict[tuple[str, str], tuple[str, bool]] = {}  # (key column, partitioned)

    def __call__(self, context: Any, revision: Any, directives: list[Any]) -> None:
        script = directives[0]
        if script.upgrade_ops is None:
            return
        connection: Connection = context.connection
        before = self._columns(connection)
        conversions = self._conversions(before)
        after = self._rewrite(script.upgrade_ops, before, refuse=True)
        self._rewrite(script.downgrade_ops, after, refuse=False)
        script.upgrade_ops.ops[:0] = conversions
        script.downgrade_ops.ops += [op.reverse() for op in reversed(conversions)]

    def _columns(self, connection: Connection) -> dict[tuple[str, str], tuple[list, list]]:
        """Every temporal table's (keys, columns) in the database now, in its order."""
        inspector = inspect(connection)
        found = {}
        for schema in self.schemas:
            for table in inspector.get_table_names(schema=schema):
                if PARTITION.fullmatch(table):
                    continue
                names = temporal_names_of(inspector, schema, table)
                if names is not None:
                    found[(schema, table)] = (list(names.keys), list(names.columns))
                    self.layouts[(schema, table)] = (names.key_column, names.partitioned)
        return found

    def _conversions(self, before: dict) -> list[ConvertHistoryLayoutOp]:
        """A temporal table whose class asks for the other history layout is converted
        first (the revision's column changes then apply to the converted table)."""
        conversions = []
        for table in self.metadata.tables.values():
            key = (table.schema, table.name)
            if key not in self.layouts:
                continue
            wanted = temporal_names(table)
            key_column, partitioned = self.layouts[key]
            if wanted.partitioned != partitioned:
                keys, columns = before[key]
                # to partitioned: a downgrade returns to the key it has; to single: the class's
                single = key_column if wanted.partitioned else wanted.key_column
                conversions.append(ConvertHistoryLayoutOp(
                    table.name, schema=table.schema,
                    layout="partitioned" if wanted.partitioned else "single",
                    single_key=single, keys=keys, columns=columns,
                ))  # fmt: skip
                self.layouts[key] = (
                    "sys_end" if wanted.partitioned else single,
                    wanted.partitioned,
                )
        return conversions

    def _rewrite(self, container: Any, state: dict, *, refuse: bool) -> dict:
        """Wrap the container's temporal changes; the tables' columns once it has run."""
        state = {k: (list(v[0]), list(v[1])) for k, v in state.items()}
        rewritten: list[Any] = []
        for op in container.ops:
            if isinstance(op, ops.ModifyTableOps) and (op.schema, op.table_name) in state:
                rewritten += self._modify(op, state, refuse)
            elif isinstance(op, ops.CreateTableOp) and self._is_temporal(op):
                table_columns = [c for c in op.columns if isinstance(c, Column)]
                plain = [c for c in table_columns if c.name not in SYSTEM_COLUMNS]
                keys = [c.name for c in plain if c.primary_key]
                columns = [c.name for c in plain]
                state[(op.schema, op.table_name)] = (keys, columns)
                partitioned = bool(op.kw.get("postgresql_partition_by"))
                self.layouts[(op.schema, op.table_name)] = (
                    "sys_end" if "sys_end" in {c.name for c in table_columns if c.primary_key}
                    else "sys_start", partitioned,
                )  # fmt: skip
                rewritten += [op, self._op(CreateVersioningOp, op.schema, op.table_name, state)]
            elif isinstance(op, ops.DropTableOp) and (op.schema, op.table_name) in state:
                if refuse:
                    self._refuse(f"{op.schema}.{op.table_name}", "table")
                rewritten += [DropVersioningOp(op.table_name, schema=op.schema), op]
                state.pop((op.schema, op.table_name))
            else:
                rewritten.append(op)
        container.ops = rewritten
        return state

    def _is_temporal(self, op: ops.CreateTableOp) -> bool:
        names = {getattr(c, "name", None) for c in op.columns}
        return set(SYSTEM_COLUMNS) <= names

    def _modify(self, op: ops.ModifyTableOps, state: dict, refuse: bool) -> list[Any]:
        columns = state[(op.schema, op.table_name)][1]
        changed = False
        for change in op.ops:
            if isinstance(change, ops.AddColumnOp):
                columns.append(change.column.name)
                changed = True
            elif isinstance(change, ops.DropColumnOp):
                if refuse:
                    self._refuse(f"{op.schema}.{op.table_name}.{change.column_name}", "column")
                columns.remove(change.column_name)
                changed = True
            elif isinstance(change, ops.AlterColumnOp):
                changed = True
        if not changed:
            return [op]
        return [
            DropCurrentViewOp(op.table_name, schema=op.schema),
            op,
            self._op(RegenerateVersioningOp, op.schema, op.table_name, state),
        ]

    def _op(self, kind: type, schema: str, table: str, state: dict) -> Any:
        keys, columns = state[(schema, table)]
        key_column, partitioned = self.layouts.get((schema, table), ("sys_start", False))
        return kind(table, schema=schema, keys=list(keys), columns=list(columns),
                    key_column=key_column, partitioned=partitioned)  # fmt: skip

    def _refuse(self, name: str, what: str) -> None:
        table = name.rsplit(".", 1)[0] if what == "column" else name
        if name in self.allowed or table in self.allowed:
            return
        raise ConfigError(
            f"Dropping the temporal {what} {name} deletes it from every version of history, "
            "which temporal tables exist to keep. If you mean it, generate the revision "
            f"again with -x {ALLOW_LOSS}={name} (before the command: scripts/migrate.py "
            f"<database> -x {ALLOW_LOSS}={name} revision --autogenerate -m ...)."
        )


def allowed_losses(x_arguments: dict[str, str]) -> set[str]:
    return {n.strip() for n in x_arguments.get(ALLOW_LOSS, "").split(",") if n.strip()}

"""The three table types, declared as data the build and the validator read.

A table class says which type it is by inheriting a mixin or base from
:mod:`src._base.tables.table_type_mixins`; each mixin carries one :class:`TableType`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TableType:
    """What a table type requires and provides.

    ``key_types`` are the SQL types allowed for the primary key (for temporal tables,
    for the business key; ``sys_start`` is appended by the framework).
    """

    name: str
    key_types: tuple[str, ...]
    required_columns: tuple[str, ...]
    name_pattern: re.Pattern[str]
    name_rule: str
    versioned: bool
    example: str

    def name_ok(self, table_name: str) -> bool:
        return bool(self.name_pattern.search(table_name))


REFERENCE = TableType(
    name="reference",
    key_types=("SMALLINT",),
    required_columns=("is_active", "systime"),
    name_pattern=re.compile(r"_type$"),
    name_rule="end in '_type' (or '_status_type')",
    versioned=False,
    example="trade_status_type",
)

TRANSACTIONAL = TableType(
    name="transactional",
    key_types=("UUID",),
    required_columns=("effective_time",),
    name_pattern=re.compile(r"^(?!.*_(type|hist)$)"),
    name_rule="be the entity name, not ending in '_type' or '_hist'",
    versioned=False,
    example="trade",
)

TEMPORAL = TableType(
    name="temporal",
    key_types=(),  # any type: the business key is the entity's own
    required_columns=("sys_start", "sys_end"),
    name_pattern=re.compile(r"_hist$"),
    name_rule="end in '_hist'",
    versioned=True,
    example="instrument_hist",
)

TABLE_TYPES: tuple[TableType, ...] = (REFERENCE, TRANSACTIONAL, TEMPORAL)

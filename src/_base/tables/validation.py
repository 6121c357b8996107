"""Convention checks for table classes: every violation, one line each, with the fix.

Used by the build after discovery; callable on its own::

    violations = validate_models([TradeStatusType, Trade, InstrumentHist])
    for v in violations: print(v)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Column, Table

from src._base.naming import MAX_IDENTIFIER_BYTES, SNAKE_CASE
from src._base.tables.ddl import DIALECT, table_of
from src._base.tables.projects import shown_file
from src._base.tables.table_types import TEMPORAL, TableType
from src.utils.errors import ConventionError

CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"
REQUIRED_TYPES = {
    "is_active": "BOOLEAN",
    "systime": TIMESTAMPTZ,
    "effective_time": TIMESTAMPTZ,
    "sys_start": TIMESTAMPTZ,
    "sys_end": TIMESTAMPTZ,
}
BRONZE_SCHEMA = "bronze"
BRONZE_PREFIX = "br_"


@dataclass(frozen=True)
class Violation:
    """One broken convention of one table class."""

    where: str  # "src/demo/tables/silver/trade.py: Trade"
    table: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where} (table {self.table}): {self.problem}. Fix: {self.fix}."


def location(model: type) -> str:
    """``file: Class`` of a table class, the file relative to the checkout."""
    return f"{shown_file(model)}: {model.__qualname__}"


def sql_type(column: Column) -> str:
    return column.type.compile(dialect=DIALECT).upper()


Check = Callable[[type, Table, TableType | None], Iterable[tuple[str, str]]]


def _check_table_type(model: type, table: Table, ttype: TableType | None):
    if ttype is None:
        yield (
            "has no table type",
            "inherit ReferenceTableBase, TransactionalTableBase or TemporalTableBase "
            "(src._base.tables.table_type_mixins)",
        )


def _check_names(model: type, table: Table, ttype: TableType | None):
    if not CLASS_NAME.match(model.__name__):
        yield f"class name '{model.__name__}' is not CamelCase", "rename the class in CamelCase"
    if not SNAKE_CASE.match(table.name):
        yield f"table name '{table.name}' is not snake_case", "use lower_case_with_underscores"
    if len(table.name.encode()) > MAX_IDENTIFIER_BYTES:
        yield (
            f"table name is {len(table.name.encode())} bytes; PostgreSQL keeps only 63",
            "shorten __tablename__",
        )
    for column in table.columns:
        if not SNAKE_CASE.match(column.name) or len(column.name.encode()) > MAX_IDENTIFIER_BYTES:
            yield (
                f"column '{column.name}' is not a snake_case name of at most 63 bytes",
                "rename the field",
            )
    if ttype is not None and not ttype.name_ok(table.name):
        yield (
            f"a {ttype.name} table's name must {ttype.name_rule}",
            f"rename it like '{ttype.example}' (set __tablename__ or rename the class)",
        )
    if table.schema == BRONZE_SCHEMA and not table.name.startswith(BRONZE_PREFIX):
        yield (
            f"bronze tables are prefixed '{BRONZE_PREFIX}'",
            f"rename it '{BRONZE_PREFIX}{table.name}'",
        )


def _check_key(model: type, table: Table, ttype: TableType | None):
    if ttype is None:
        return
    keys = [c for c in table.primary_key.columns if c.name not in ("sys_start", "sys_end")]
    if ttype is TEMPORAL:
        if not keys:
            yield (
                "a temporal table needs a business key",
                "mark the entity's key field(s) with Field(primary_key=True)",
            )
        in_key = [c for c in ("sys_start", "sys_end") if c in table.primary_key.columns]
        if len(in_key) != 1:
            yield (
                "the primary key must hold exactly one of sys_start, sys_end",
                "do not redeclare sys_start or sys_end; choose with __temporal_key__",
            )
        return
    types = [sql_type(c) for c in keys]
    if len(keys) != 1 or types[0] not in ttype.key_types:
        shown = ", ".join(f"{c.name} {t}" for c, t in zip(keys, types, strict=True)) or "none"
        yield (
            f"a {ttype.name} table needs one {'/'.join(ttype.key_types)} primary key, "
            f"found {shown}",
            f"declare a single {ttype.key_types[0]} key or let the framework add "
            f"{table.name}_id",
        )


def _check_required_columns(model: type, table: Table, ttype: TableType | None):
    if ttype is None:
        return
    for name in ttype.required_columns:
        if name not in table.columns:
            yield f"required column '{name}' is missing", f"do not remove {name} from the class"
            continue
        found = sql_type(table.columns[name])
        if found != REQUIRED_TYPES[name]:
            yield (
                f"column '{name}' is {found}, expected {REQUIRED_TYPES[name]}",
                f"remove the class's own '{name}' so the framework adds it",
            )


CHECKS: tuple[Check, ...] = (
    _check_table_type,
    _check_names,
    _check_key,
    _check_required_columns,
)


def validate_models(models: Iterable[type]) -> list[Violation]:
    """Every convention violation of every model; an empty list means all is well."""
    violations = []
    for model in models:
        table = table_of(model)
        ttype: TableType | None = getattr(model, "__table_type__", None)
        for check in CHECKS:
            for problem, fix in check(model, table, ttype):
                violations.append(Violation(location(model), table.fullname, problem, fix))
    return violations


def check_conventions(models: Iterable[type]) -> None:
    """Raise :class:`ConventionError` listing every violation, one per line."""
    violations = validate_models(models)
    if violations:
        lines = "\n".join(f"  - {v}" for v in violations)
        raise ConventionError(f"{len(violations)} convention violation(s):\n{lines}")

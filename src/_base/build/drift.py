"""Differences between a table class and the table the database has (drift)."""

from __future__ import annotations

from sqlalchemy import Connection, Table, inspect

from src._base.tables.ddl import DIALECT

# Spellings PostgreSQL stores as one type.
_ALIASES = {"FLOAT": "DOUBLE PRECISION", "FLOAT(53)": "DOUBLE PRECISION", "INT": "INTEGER"}


def _type(sql_type: object) -> str:
    try:
        name = sql_type.compile(dialect=DIALECT).upper()  # type: ignore[attr-defined]
    except Exception:  # a type the dialect cannot render: compare by name
        name = type(sql_type).__name__.upper()
    return _ALIASES.get(name, name)


def reflect_columns(connection: Connection, schemas: set[str | None]) -> dict[tuple, list[dict]]:
    """Every table's reflected columns, one catalog query per schema.

    Keys are ``(schema, table)``, as SQLAlchemy's multi-table reflection returns them.
    """
    inspector = inspect(connection)
    found: dict[tuple, list[dict]] = {}
    for schema in schemas:
        found.update(inspector.get_multi_columns(schema=schema))
    return found


def column_drift(table: Table, reflected_columns: list[dict]) -> list[str]:
    """One line per difference in columns: missing, extra, type or nullability."""
    reflected = {column["name"]: column for column in reflected_columns}
    lines = []
    for column in table.columns:
        found = reflected.pop(column.name, None)
        if found is None:
            lines.append(f"column {column.name} is in the model but not in the database")
            continue
        model_type, db_type = _type(column.type), _type(found["type"])
        if model_type != db_type:
            lines.append(
                f"column {column.name} is {db_type} in the database, {model_type} in the model"
            )
        if bool(found["nullable"]) != bool(column.nullable):
            wanted = "NULL" if column.nullable else "NOT NULL"
            lines.append(f"column {column.name} should be {wanted}")
    lines += [f"column {name} is in the database but not in the model" for name in reflected]
    return lines

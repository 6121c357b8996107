"""Build step: upsert reference rows from ``src/<db>/data/<schema>.py``.

Idempotent: a row that matches the database is left alone; a changed row is updated
(``systime`` set to now). A bad row (wrong type, constraint violation) is rejected with
its key and reason inside its own savepoint, so the good rows are kept; the step then
fails with the count of rejected rows.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from src._base.build.project import LoadedProject
from src._base.build.report import StepResult, timed
from src._base.naming import qualified, quote
from src._base.tables.ddl import table_of
from src._base.tables.table_types import TEMPORAL

# Columns the database maintains; rows in data files never set them.
MANAGED = ("systime", "sys_start", "sys_end")


def _upsert_sql(model: type, columns: list[str]) -> str:
    table = table_of(model)
    keys = [c.name for c in table.primary_key.columns]
    values = [c for c in columns if c not in keys]
    target = qualified(table.schema, table.name)
    names = ", ".join(quote(c) for c in columns)
    params = ", ".join(f":{c}" for c in columns)
    conflict = ", ".join(quote(k) for k in keys)
    if not values:
        return (
            f"INSERT INTO {target} ({names}) VALUES ({params}) "
            f"ON CONFLICT ({conflict}) DO NOTHING RETURNING true"
        )
    sets = [f"{quote(c)} = EXCLUDED.{quote(c)}" for c in values]
    if "systime" in table.columns:
        sets.append("systime = now()")
    changed = " OR ".join(f"t.{quote(c)} IS DISTINCT FROM EXCLUDED.{quote(c)}" for c in values)
    return (
        f"INSERT INTO {target} AS t ({names}) VALUES ({params}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(sets)} WHERE {changed} "
        "RETURNING (xmax = 0) AS inserted"
    )


def key_of(model: type, row: dict[str, Any]) -> str:
    keys = [c.name for c in table_of(model).primary_key.columns if c.name not in MANAGED]
    return ", ".join(f"{k}={row.get(k)!r}" for k in keys)


def validated(model: type, row: dict[str, Any]) -> dict[str, Any]:
    """The row as the model types it; raises ValidationError naming the bad field."""
    unknown = set(row) - set(model.model_fields)
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(sorted(unknown))}")
    instance = model.model_validate(row)
    return {name: getattr(instance, name) for name in model.model_fields if name not in MANAGED}


def reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"field '{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors()
        )
    original = getattr(exc, "orig", exc)
    return str(original).strip().splitlines()[0]


def upsert_rows(connection: Connection, model: type, rows: list[dict], result: StepResult) -> None:
    """Upsert one model's rows, each in a savepoint; record inserted/updated/rejected."""
    table = table_of(model)
    for row in rows:
        key = f"{table.fullname} ({key_of(model, row)})"
        try:
            values = validated(model, row)
            with connection.begin_nested():
                outcome = connection.execute(text(_upsert_sql(model, sorted(values))), values)
                changed = outcome.first()
        except (ValidationError, DBAPIError, ValueError) as exc:
            result.failed.append(f"rejected {key}: {reason(exc)}")
            continue
        (result.created if changed is not None else result.present).append(key)


def load_reference_data(engine: Engine, project: LoadedProject) -> StepResult:
    result = StepResult("reference_data", project.database)
    with timed(result), engine.begin() as connection:
        for model, rows in project.reference_data.items():
            if getattr(model, "__table_type__", None) is TEMPORAL:
                result.failed.append(
                    f"{project.data_sources[model]}: {table_of(model).fullname} is temporal; "
                    "reference data belongs in reference (*_type) tables"
                )
                continue
            upsert_rows(connection, model, rows, result)
    if result.failed:
        result.failed.insert(0, f"{len(result.failed)} row(s) rejected, the other rows kept")
    return result

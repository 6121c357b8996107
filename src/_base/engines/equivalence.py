"""Are the engines equal? Run every transform on both, from the same sources, and compare.

    comparisons = check_engines(settings, conn, "demo", [date(2026, 11, 19)], spark)

Each engine gets a warehouse database of its own (``<db>_check_spark``,
``<db>_check_postgres``, rebuilt from the project), runs the catalogue for the dates in
order, and then every output table of every transform is compared by key: numbers may
differ by one unit at the column's scale (Spark rounds decimal division twice), all else
must be equal. Values that differ by design are left out: generated surrogate ids and
load times, and bronze ids inside quarantined JSON records.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from src._base.build.databases import ensure_database
from src._base.build.steps import build_in_database
from src._base.pipeline.catalogue import TransformEntry, load_catalogue
from src._base.pipeline.daily import run_config
from src.config import ConnectionSettings, Settings
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.errors import MedallionError, PipelineError

log = logging.getLogger(__name__)

ENGINE_ORDER = ("spark", "postgres")
BRONZE_ID = re.compile(r"br_[a-z0-9_]+_id")
# Columns generated per run: surrogate keys with a random default, load times.
GENERATED = (
    "gen_random_uuid",
    "uuid_v7",
    "nextval",
    "now()",
    "clock_timestamp",
    "CURRENT_TIMESTAMP",
)


@dataclass
class Comparison:
    """One output table of one transform, compared across the engines."""

    transform: str
    table: str
    rows: dict[str, int] = field(default_factory=dict)  # engine -> rows compared
    equal: bool = False
    largest_difference: str = ""  # "column: a vs b" of the largest numeric difference
    first_keys: list[str] = field(default_factory=list)  # keys that differ, first few
    type_drift: list[str] = field(default_factory=list)  # staged types that differ
    error: str = ""  # why the transform did not run on an engine


def check_warehouse(conn: ConnectionSettings, database: str, engine: str) -> ConnectionSettings:
    return conn.with_database(f"{database}_check_{engine}")


def fresh_warehouse(settings: Settings, conn: ConnectionSettings, database: str, engine: str):
    """Drop and rebuild the engine's check database (only the ones this command names)."""
    warehouse = check_warehouse(conn, database, engine)
    execute_autocommit(conn, f'DROP DATABASE IF EXISTS "{warehouse.database}" WITH (FORCE)')
    ensure_database(conn, warehouse.database)
    for result in build_in_database(warehouse, settings.src_path, database):
        if not result.ok:
            raise PipelineError(f"Cannot build {warehouse.database}: {result.failed}")
    return warehouse


def run_engine(
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    engine: str,
    days: Sequence[date],
    spark: Any,
) -> tuple[ConnectionSettings, dict[str, str], dict[str, dict[str, str]]]:
    """Every transform for every date on ``engine``; errors by transform, output types."""
    warehouse = fresh_warehouse(settings, conn, database, engine)
    engine_settings = settings.model_copy(update={"engine": engine})
    errors: dict[str, str] = {}
    types: dict[str, dict[str, str]] = {}
    entries = load_catalogue(settings.src_path, database).entries
    for day in days:
        cfg = run_config(engine_settings, conn, database, day, warehouse=warehouse)
        for entry in entries:
            if entry.name in errors:
                continue
            try:
                result = entry.run(spark if engine == "spark" else None, cfg)
                types[entry.name] = result.output_types
            except MedallionError as exc:
                errors[entry.name] = f"{day}: {exc}"
                log.warning("%s on %s: %s", entry.name, engine, exc)
    return warehouse, errors, types


def table_columns(raw: Any, table: str) -> list[tuple[str, str, bool]]:
    """(column, type, generated) of ``table``, in order."""
    schema, name = table.split(".")
    with raw.cursor() as cur:
        cur.execute(
            """SELECT a.attname, format_type(a.atttypid, a.atttypmod),
       coalesce(pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum""",
            (schema, name),
        )
        rows = cur.fetchall()
    return [
        (column, kind, column == "load_time" or any(g in default for g in GENERATED))
        for column, kind, default in rows
    ]


def numeric_scale(kind: str) -> Decimal | None:
    match = re.fullmatch(r"numeric\(\d+,(\d+)\)", kind)
    return Decimal(1).scaleb(-int(match[1])) if match else None


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not BRONZE_ID.fullmatch(k)}
    return value


def _fetch(conn: ConnectionSettings, table: str, columns: list[str], where: str) -> list[tuple]:
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            names = ", ".join(f'"{c}"' for c in columns)
            cur.execute(f"SELECT {names} FROM {table}{where}")
            return [tuple(_clean(v) for v in row) for row in cur.fetchall()]
    finally:
        raw.close()


def keyed_rows(rows: list[tuple], width: int) -> dict[tuple, list[tuple]]:
    keyed: dict[tuple, list[tuple]] = {}
    for row in rows:
        keyed.setdefault(tuple(map(repr, row[:width])), []).append(row[width:])
    return {k: sorted(v, key=repr) for k, v in keyed.items()}


def _layout(conn: ConnectionSettings, table: str) -> tuple[list[str], int, list]:
    """Columns to compare, keys first (everything not numeric); key width; tolerances."""
    raw = connect_raw(conn)
    try:
        columns = [(name, kind) for name, kind, generated in table_columns(raw, table)
                   if not generated]  # fmt: skip
    finally:
        raw.close()
    numeric = [(n, k) for n, k in columns if numeric_scale(k) is not None or "double" in k]
    keys = [(n, k) for n, k in columns if (n, k) not in numeric]
    return [n for n, _ in keys + numeric], len(keys), [numeric_scale(k) for _, k in numeric]


def compare_table(
    warehouses: dict[str, ConnectionSettings], entry: TransformEntry, table: str
) -> Comparison:
    """Compare ``table`` (the transform's rows of it) between the two engines' warehouses."""
    found = Comparison(entry.name, table)
    names, width, tolerance = _layout(warehouses[ENGINE_ORDER[0]], table)
    where = f" WHERE job = '{entry.name}'" if "job" in names else ""
    sides = {e: _fetch(w, table, names, where) for e, w in warehouses.items()}
    found.rows = {e: len(rows) for e, rows in sides.items()}
    left, right = (keyed_rows(sides[e], width) for e in ENGINE_ORDER)
    largest: tuple[Decimal, str] = (Decimal(0), "")
    for key in sorted(set(left) | set(right)):
        same, delta = rows_close(left.get(key, []), right.get(key, []), tolerance, names[width:])
        largest = max(largest, delta, key=lambda d: d[0])
        if not same and len(found.first_keys) < 5:
            found.first_keys.append(", ".join(key)[:120])
    found.equal = not found.first_keys
    found.largest_difference = largest[1]
    return found


def rows_close(a: list[tuple], b: list[tuple], tolerance: list, names: list[str]):
    """Rows equal within one unit at each numeric column's scale; the largest difference."""
    if len(a) != len(b):
        return False, (Decimal(0), "")
    largest: tuple[Decimal, str] = (Decimal(0), "")
    for row_a, row_b in zip(a, b, strict=True):
        for x, y, unit, name in zip(row_a, row_b, tolerance, names, strict=True):
            if x == y:
                continue
            if unit is None or x is None or y is None:
                return False, largest
            delta = abs(Decimal(x) - Decimal(y))
            if delta > largest[0]:
                largest = (delta, f"{name}: {x} vs {y}")
            if delta > unit:
                return False, largest
    return True, largest


def check_engines(
    settings: Settings, conn: ConnectionSettings, database: str, days: Sequence[date], spark: Any
) -> list[Comparison]:
    """Run ``database``'s transforms on both engines for ``days``; compare every output."""
    warehouses, errors, types = {}, {}, {}
    for engine in ENGINE_ORDER:
        warehouses[engine], errors[engine], types[engine] = run_engine(
            settings, conn, database, engine, days, spark
        )
    comparisons = []
    for entry in load_catalogue(settings.src_path, database).entries:
        failed = [f"{e}: {errors[e][entry.name]}" for e in ENGINE_ORDER if entry.name in errors[e]]
        for table in entry.outputs:
            found = Comparison(entry.name, table, error="; ".join(failed))
            if not failed:
                found = compare_table(warehouses, entry, table)
                found.type_drift = _drift(types, entry.name)
            comparisons.append(found)
    return comparisons


def _family(kind: str | None) -> str | None:
    """Types that hold the same values alike: text and varchar are one family."""
    return "text" if kind and kind.startswith("character varying") else kind


def _drift(types: dict[str, dict[str, dict[str, str]]], name: str) -> list[str]:
    spark, pg = (
        {column: _family(kind) for column, kind in types[e].get(name, {}).items()}
        for e in ENGINE_ORDER
    )
    return [
        f"{column}: {spark.get(column)} vs {pg.get(column)}"
        for column in sorted(set(spark) | set(pg))
        if spark.get(column) != pg.get(column)
    ]


def render_matrix(comparisons: Sequence[Comparison]) -> str:
    header = f"{'transform':<26} {'table':<30} {'spark':>8} {'postgres':>9}  result"
    lines = [header, "-" * (len(header) + 30)]
    for c in comparisons:
        rows = [c.rows.get(e) for e in ENGINE_ORDER]
        shown = [f"{r:,}" if r is not None else "-" for r in rows]
        if c.error:
            verdict = f"NOT RUN ({c.error[:150]})"
        elif c.equal:
            verdict = "equal" + (f" (largest difference {c.largest_difference})"
                                 if c.largest_difference else "")  # fmt: skip
        else:
            verdict = f"DIFFERENT at keys {' | '.join(c.first_keys)}"
        if c.type_drift:
            verdict += f"; staged types differ: {', '.join(c.type_drift[:4])}"
        lines.append(f"{c.transform:<26} {c.table:<30} {shown[0]:>8} {shown[1]:>9}  {verdict}")
    return "\n".join(lines)

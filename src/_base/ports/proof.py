"""Proof of a port, offline: run the generated files here and compare with the spark engine.

    results = check_snowflake(settings, conn, "demo", days, spark, port)

The spark engine loads its check warehouse (``<db>_check_spark``) for the days, as
:mod:`src._base.engines.equivalence` does. The Snowflake port's scripts then run under
``fakesnow`` (Snowflake's SQL translated onto DuckDB by sqlglot) from the same inputs:

* the tables no transform writes (reference data) and the source tables the bronze
  scripts read are copied in;
* the outputs of transforms the port does not run are copied from the spark warehouse,
  whole (downstream reads select their date or read as of a time, so later rows are
  never seen early);
* ``run_day`` order: each date, every ported script in the catalogue's order;
* landing files: a stage over the local landing folder, and each ``COPY`` reading
  ``METADATA$FILENAME`` (which fakesnow lacks, as it lacks ``PATTERN``) run once per file
  the pattern matches, naming the file, its path in the stage and its write time
  (:meth:`SnowflakeRun.each_file`).

Every output table of a ported transform is then compared with the spark warehouse's by
key, numbers within one unit at the column's scale (DuckDB divides decimals as doubles),
timestamps in UTC, an open version's end (9999-12-31) equal to ``infinity``, JSON as
parsed values. Left out: generated ids and load times (as in the engine check) and
bronze ``content_hash`` (the JSON text hashed is each engine's own; only equality within
a batch matters downstream).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from src._base.engines.equivalence import (
    BRONZE_ID,
    keyed_rows,
    numeric_scale,
    rows_close,
    run_engine,
    table_columns,
)
from src._base.pipeline.catalogue import load_catalogue, project_tables
from src._base.pipeline.daily import run_config
from src._base.pipeline.shapes import BronzeAppend, LandingFiles, SourceTable
from src._base.ports.common import NOT_PORTED, PORTED, VALIDATED, Port
from src._base.ports.snowflake import (
    FILE_MODIFIED,
    FILE_NAME,
    VARIABLES,
    landing_stage,
    landing_variables,
    snowflake_type,
)
from src.config import ConnectionSettings, Settings
from src.utils.connections import connect_raw
from src.utils.errors import PipelineError

log = logging.getLogger(__name__)

# fakesnow cannot run a script's transaction (its catalogue lives in another DuckDB
# database, which one transaction cannot also write), so the proof runs the statements
# without it: atomicity is Snowflake's to show.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT")
UNTESTED = "transactions (BEGIN ... COMMIT) are skipped under fakesnow"
NOT_COMPARED = ("content_hash",)  # engine-specific JSON text, hashed
OPEN_YEAR = 9999
PLATFORMS = {"snowflake": "Snowflake", "databricks": "Databricks"}


@dataclass
class PortResult:
    """One output table of one transform on one target."""

    transform: str
    table: str
    target: str
    status: str  # PORTED (ran), or NOT_PORTED / "validated only" with the reason
    reason: str = ""
    rows: dict[str, int] = field(default_factory=dict)  # "spark" / target -> rows
    equal: bool = False
    first_keys: list[str] = field(default_factory=list)
    largest_difference: str = ""
    type_drift: list[str] = field(default_factory=list)
    error: str = ""


def split_statements(text: str) -> list[str]:
    """The statements of a generated script (each ends with ``;`` at a line's end)."""
    statements = []
    for chunk in re.split(r";[ \t]*\n", text):
        lines = [line for line in chunk.splitlines() if not line.lstrip().startswith("--")]
        body = "\n".join(lines).strip()
        if body and not body.startswith("!"):
            statements.append(body)
    return statements


def open_end_column(name: str, kind: str) -> str:
    """A PostgreSQL column as other engines can hold it: ``infinity`` as 9999-12-31."""
    if kind.startswith("timestamp"):
        return (
            f"CASE WHEN \"{name}\" = 'infinity' THEN timestamptz '9999-12-31 00:00:00+00'"
            f' ELSE "{name}" END AS "{name}"'
        )
    return f'"{name}"'


def _pg_select(raw: Any, table: str, columns: list[tuple[str, str]], where: str = "") -> list:
    """Rows of ``table``, timestamps as UTC instants and ``infinity`` as 9999-12-31."""
    shown = [open_end_column(name, kind) for name, kind in columns]
    with raw.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute(f"SELECT {', '.join(shown)} FROM {table}{where}")
        return cur.fetchall()


def _to_snowflake(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def copy_table(raw: Any, sf: Any, table: str, target: str | None = None, where: str = "") -> int:
    """Copy ``table``'s rows (PostgreSQL) into ``target`` (Snowflake, default the same)."""
    import pandas as pd
    from snowflake.connector.pandas_tools import write_pandas

    columns = [(name, kind) for name, kind, _ in table_columns(raw, table)]
    rows = _pg_select(raw, table, columns, where)
    if rows:
        frame = pd.DataFrame(
            [tuple(_to_snowflake(v) for v in row) for row in rows],
            columns=[name.upper() for name, _ in columns],
        )
        *database, schema, name = (target or table).upper().split(".")
        write_pandas(
            sf, frame, name, database=database[0] if database else None, schema=schema,
            quote_identifiers=False,
        )  # fmt: skip
    return len(rows)


def create_like(raw: Any, sf: Any, table: str, target: str) -> None:
    """A Snowflake table shaped as PostgreSQL's ``table`` (a source the port reads)."""
    columns = table_columns(raw, table)
    body = ", ".join(f"{name} {snowflake_type(kind)}" for name, kind, _ in columns)
    sf.cursor().execute(f"CREATE TABLE IF NOT EXISTS {target} ({body})")


def _normal(value: Any) -> Any:
    """A value as both sides can hold it: UUIDs as text, instants in UTC, JSON parsed."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return "open" if value.year == OPEN_YEAR else value.astimezone(UTC)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        kept = {k: _json_value(v) for k, v in value.items() if not BRONZE_ID.fullmatch(k)}
        return dict(sorted(kept.items()))  # JSON objects have no order
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _json_value(value: Any) -> Any:
    """A JSON member: numbers compared as numbers (Spark writes ``-192.0``, Snowflake
    ``-192``), the rest as :func:`_normal` does."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    return _normal(value)


_COPY_FROM = re.compile(r"FROM @([\w.]+)/([^)\s]*?)/?\)")
_PATTERN = re.compile(r"PATTERN = '([^']*)'\n?")


def _modified(path: Path) -> str:
    """When ``path`` was last written, in UTC, as ``METADATA$FILE_LAST_MODIFIED`` gives it."""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class SnowflakeRun:
    """A fakesnow session holding the port's warehouse."""

    def __init__(self, database: str) -> None:
        import fakesnow
        import snowflake.connector

        # fakesnow notes an extra copy of each result it returns: nothing to act on, and
        # with Airflow's logging configured (the Databricks DAG's rules) it reaches stdout.
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        self._patch = fakesnow.patch()
        self._patch.__enter__()
        self.database = database.upper()
        self.conn = snowflake.connector.connect(database=self.database, schema="PUBLIC")
        self.stages: dict[str, Path] = {}

    def add_stage(self, stage: str, root: Path) -> None:
        """The stage ``stage`` over the local folder ``root`` (a landing zone)."""
        self.stages[stage] = root
        self.conn.cursor().execute(f"CREATE STAGE IF NOT EXISTS {stage} URL = 'file://{root}/'")

    def each_file(self, statement: str) -> list[str]:
        """A ``COPY`` reading ``METADATA$FILENAME``, which fakesnow lacks, as one ``COPY``
        per file of its stage folder that its ``PATTERN`` matches (fakesnow lacks that
        too), in path order, each naming its file (``FILES``) and its path in the stage."""
        if FILE_NAME not in statement:
            return [statement]
        found = _COPY_FROM.search(statement)
        pattern = _PATTERN.search(statement)
        if not found or found[1] not in self.stages:
            raise PipelineError(f"A COPY from a stage the proof did not create: {statement[:200]}")
        folder = self.stages[found[1]] / found[2]
        names = sorted(
            str(path.relative_to(folder))
            for path in folder.rglob("*")
            if path.is_file() and (not pattern or re.fullmatch(pattern[1], path.name))
        )
        statement = _PATTERN.sub("", statement)
        return [
            statement.replace(FILE_NAME, f"'{found[2]}/{name}'")
            .replace(FILE_MODIFIED, f"'{_modified(folder / name)}'")
            .replace("FILE_FORMAT", f"FILES = ('{name}')\nFILE_FORMAT")
            for name in names
        ]

    def run(self, text: str, where: str) -> None:
        cur = self.conn.cursor()
        for statement in split_statements(text):
            if statement.upper() in TRANSACTION_CONTROL:
                continue  # see UNTESTED
            try:
                for one in self.each_file(statement):
                    cur.execute(one)
            except Exception as exc:  # the connector's and DuckDB's errors alike
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                cur.execute("ROLLBACK")  # a script's transaction is left open on failure
                raise PipelineError(f"{where}: {first}\n  in: {statement[:300]}") from None

    def set_parameters(self, params: dict[str, str]) -> None:
        cur = self.conn.cursor()  # fakesnow's session is UTC (it has no ALTER SESSION)
        for name, value in params.items():
            cur.execute(f"SET {VARIABLES[name]} = '{value}'")

    def rows(self, table: str, columns: Sequence[str], where: str) -> list[tuple]:
        cur = self.conn.cursor()
        cur.execute(f"SELECT {', '.join(columns)} FROM {table}{where}")
        return cur.fetchall()

    def close(self) -> None:
        self.conn.close()
        self._patch.__exit__(None, None, None)


def _type_drift(raw: Any, table: str) -> list[str]:
    """Columns Snowflake stores in another type family (its integers are NUMBER(38,0))."""
    drift = []
    for name, kind, _ in table_columns(raw, table):
        stored = snowflake_type(kind)
        if kind in ("smallint", "integer", "bigint"):
            drift.append(f"{name}: {kind} → NUMBER(38,0)")
        elif kind == "uuid" or kind.startswith("json"):
            drift.append(f"{name}: {kind} → {stored}")
    return drift


def measured(kind: str) -> bool:
    """A column compared within a tolerance (a number), not as part of the row's key."""
    return numeric_scale(kind) is not None or "double" in kind


def diff_keyed(
    expected: list[tuple],
    ported: list[tuple],
    columns: Sequence[tuple[str, str]],
    result: PortResult,
    label: str = "",
    exact: Sequence[str] = (),
) -> tuple[Decimal, str]:
    """Match ``expected`` (the spark engine's rows) and ``ported`` by key: every column
    but the numbers, which are compared within one unit at their scale (``exact`` names
    numbers compared as key). Up to three differing keys go to ``result.first_keys``
    (after ``label``); returns the largest numeric difference."""
    numeric = [i for i, (n, k) in enumerate(columns) if measured(k) and n not in exact]
    order = [i for i in range(len(columns)) if i not in numeric] + numeric
    width = len(columns) - len(numeric)
    left = keyed_rows([tuple(row[i] for i in order) for row in expected], width)
    right = keyed_rows([tuple(row[i] for i in order) for row in ported], width)
    tolerance = [numeric_scale(columns[i][1]) or Decimal("1e-9") for i in numeric]
    names = [columns[i][0] for i in numeric]
    largest: tuple[Decimal, str] = (Decimal(0), "")
    for key in sorted(set(left) | set(right)):
        same, delta = rows_close(left.get(key, []), right.get(key, []), tolerance, names)
        largest = max(largest, delta, key=lambda d: d[0])
        if not same and len(result.first_keys) < 3:
            result.first_keys.append(label + ", ".join(map(str, key))[:160])
    return largest


def _compare(raw: Any, sf: SnowflakeRun, table: str, job: str, result: PortResult) -> None:
    layout = [
        (name, kind)
        for name, kind, generated in table_columns(raw, table)
        if not generated and name not in NOT_COMPARED
    ]
    names = [n for n, _ in layout]
    where = f" WHERE job = '{job}'" if "job" in names else ""
    spark_rows = [tuple(map(_normal, row)) for row in _pg_select(raw, table, layout, where)]
    port_rows = [tuple(map(_normal, row)) for row in sf.rows(table, names, where)]
    result.rows = {"spark": len(spark_rows), result.target: len(port_rows)}
    largest = diff_keyed(spark_rows, port_rows, layout, result)
    result.equal = not result.first_keys
    result.largest_difference = largest[1]


def check_snowflake(
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    days: Sequence[date],
    spark: Any,
    port: Port,
    spark_warehouse: ConnectionSettings | None = None,
) -> list[PortResult]:
    """Run ``port`` (Snowflake) under fakesnow for ``days``; compare with the spark engine.

    ``spark_warehouse``: an already loaded spark check warehouse (else one is loaded)."""
    if spark_warehouse is None:
        spark_warehouse, errors, _ = run_engine(settings, conn, database, "spark", days, spark)
        if errors:
            raise PipelineError(f"The spark engine failed: {errors}")
    catalogue = load_catalogue(settings.src_path, database)
    by_name = {p.name: p for p in port.transforms}
    raw = connect_raw(spark_warehouse)
    source = run_config(settings, conn, database, days[0]).source
    source_raw = connect_raw(source)
    sf = SnowflakeRun(f"{database}_port")
    results: list[PortResult] = []
    failed: dict[str, str] = {}
    try:
        sf.run(port.files["00_tables.sql"], "00_tables.sql")
        zones = landing_zones(run_config(settings, conn, database, days[0]), catalogue, by_name)
        for stage, root in zones.items():
            sf.add_stage(stage, root)
        written = {table for entry in catalogue.entries for table in entry.outputs}
        for table in sorted(set(project_tables(settings.src_path, database)) - written):
            copy_table(raw, sf.conn, table)  # what no transform writes: reference data
        _copy_sources(source_raw, sf, catalogue, by_name, source.database)
        for entry in catalogue.entries:
            if by_name[entry.name].status != PORTED:
                for table in entry.outputs:
                    where = f" WHERE job = '{entry.name}'" if table.endswith("quarantine") else ""
                    copy_table(raw, sf.conn, table, where=where)
        for day in days:
            sf.set_parameters(run_config(settings, conn, database, day).params())
            for stage, root in zones.items():
                zone, uri = landing_variables(stage)
                sf.conn.cursor().execute(f"SET {zone} = '{root}'")
                sf.conn.cursor().execute(f"SET {uri} = 'file:{root}'")  # as Spark names files
            for entry in catalogue.entries:
                ported = by_name[entry.name]
                if ported.status != PORTED or entry.name in failed:
                    continue
                try:
                    sf.run(port.files[ported.path], f"{ported.path} for {day}")
                except PipelineError as exc:
                    failed[entry.name] = str(exc)
                    log.warning("%s", exc)
        for entry in catalogue.entries:
            ported = by_name[entry.name]
            for table in entry.outputs:
                result = PortResult(entry.name, table, port.target, ported.status, ported.reason)
                if ported.status == PORTED:
                    result.type_drift = _type_drift(raw, table)
                    if entry.name in failed:
                        result.error = failed[entry.name]
                    else:
                        _compare(raw, sf, table, entry.name, result)
                results.append(result)
    finally:
        sf.close()
        raw.close()
        source_raw.close()
    return results


def ported_bronze(catalogue: Any, by_name: dict, source: type) -> list[tuple[Any, BronzeAppend]]:
    """The ported bronze loads whose source is a ``source`` (a table, or landing files)."""
    return [
        (entry, entry.spec)
        for entry in catalogue.entries
        if isinstance(entry.spec, BronzeAppend)
        and isinstance(entry.spec.source, source)
        and by_name[entry.name].status == PORTED
    ]


def landing_zones(cfg: Any, catalogue: Any, by_name: dict) -> dict[str, Path]:
    """The local landing folder of each stage the ported transforms copy files from."""
    zones: dict[str, Path] = {}
    for entry, spec in ported_bronze(catalogue, by_name, LandingFiles):
        resolved = cfg.source_named(spec.source.source, "landing")
        if not isinstance(resolved.target, Path):
            raise PipelineError(
                f"{entry.name}: the proof reads landing files from a local folder, and the "
                f"source '{resolved.name}' is {resolved.target} (from {resolved.origin}). "
                "Point it at a local copy of the zone for the check."
            )
        zones[landing_stage(spec.source, spec.target)] = resolved.target
    return zones


def _copy_sources(source_raw: Any, sf: SnowflakeRun, catalogue: Any, by_name: dict,
                  source_db: str) -> None:  # fmt: skip
    """The source tables the ported bronze scripts read, whole, under their database."""
    cur = sf.conn.cursor()
    cur.execute(f"CREATE DATABASE IF NOT EXISTS {source_db}")
    for _, spec in ported_bronze(catalogue, by_name, SourceTable):
        relation = spec.source.relation
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {source_db}.{relation.split('.')[0]}")
        target = f"{source_db}.{relation}"
        create_like(source_raw, sf.conn, relation, target)
        cur.execute(f"DELETE FROM {target}")
        copy_table(source_raw, sf.conn, relation, target)
    cur.execute(f"USE SCHEMA {sf.database}.PUBLIC")  # CREATE DATABASE / SCHEMA moved there


def _verdict(r: PortResult) -> str:
    if r.status == VALIDATED:  # checked without running (the Databricks dry-run's row)
        return f"FAILED: {r.error.splitlines()[0][:200]}" if r.error else f"validated: {r.reason}"
    if r.status != PORTED:
        return f"{r.status.upper()}: {r.reason}"
    if r.error:
        verdict = f"FAILED: {r.error.splitlines()[0][:160]}"
    elif r.equal:
        verdict = "ran, equal"
        verdict += f" (largest difference {r.largest_difference})" if r.largest_difference else ""
    else:
        verdict = f"ran, DIFFERENT at keys {' | '.join(r.first_keys)}"
    if r.reason:
        verdict += f"; only {PLATFORMS.get(r.target, r.target)} can show: {r.reason}"
    if r.type_drift:
        verdict += f"; types: {', '.join(r.type_drift[:3])}"
        verdict += f" (+{len(r.type_drift) - 3})" if len(r.type_drift) > 3 else ""
    return verdict


def render_results(results: Sequence[PortResult]) -> str:
    """The matrix: one row per transform, output table and target."""
    header = f"{'transform':<26} {'table':<30} {'target':<10} {'spark':>7} {'port':>7}  result"
    lines = [header, "-" * (len(header) + 40)]
    for r in results:
        spark_rows = r.rows.get("spark")
        port_rows = r.rows.get(r.target)
        shown = [f"{n:,}" if n is not None else "-" for n in (spark_rows, port_rows)]
        lines.append(
            f"{r.transform:<26} {r.table:<30} {r.target:<10} {shown[0]:>7} {shown[1]:>7}  "
            f"{_verdict(r)}"
        )
    return "\n".join(lines)


def proven(results: Sequence[PortResult]) -> bool:
    """Every ported transform ran and equals the spark engine; every validation passed."""
    return all(
        (r.equal and not r.error) if r.status == PORTED else not r.error
        for r in results
        if r.status in (PORTED, VALIDATED)
    )


__all__ = ["NOT_PORTED", "PortResult", "check_snowflake", "proven", "render_results"]

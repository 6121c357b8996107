"""Proof of the Databricks port, offline: PySpark's ``spark-pipelines`` runs it here.

    results = check_databricks(settings, conn, "demo", days, spark, port, warehouse)

The spark engine has loaded its check warehouse (``<db>_check_spark``) for the days. Then:

1. every table of the project is copied from that warehouse into a local Hive catalog
   (Parquet; an open version's end as 9999-12-31), with ``<table>__published`` views for
   transforms that read their own earlier days: what ``transformations/`` reads from
   outside the pipeline;
2. for each date, ``spark-pipelines run`` runs ``transformations/`` with the date's
   parameters in the configuration: sources over JDBC from the same source database,
   landing files from the same folder;
3. each ``<table>__day`` is compared with the warehouse's rows of that date, by key and
   with the tolerance :mod:`.proof` uses for Snowflake: bronze by the batch's id (load
   times and row ids aside), a snapshot's valid rows with the versions current at the
   date's system time (keys quarantined that day aside: their version stays), rejects
   with the quarantine's rows of the job and date, replaced rows with the date's slice,
   gold with the date's rows as known at its knowledge time. Upserts and their history
   are compared on the last date only: the copied tables hold every date's upserts, so
   an earlier date's staged rows may have been overtaken since (an event older than the
   stored state is left out, as the warehouse's guard leaves it);
4. ``spark-pipelines dry-run`` of the whole project (``history/`` too) validates the once
   flows and AUTO CDC against the real schemas: PySpark 4.3 runs neither here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from src._base.engines.equivalence import (
    run_engine,
    table_columns,
)
from src._base.pipeline.catalogue import TransformEntry, load_catalogue, project_tables
from src._base.pipeline.daily import run_config
from src._base.pipeline.shapes import (
    BronzeAppend,
    GoldSnapshot,
    MergeHistory,
    ReplaceRows,
    SilverBatchLoad,
    SnapshotIntoHistory,
    UpsertRows,
)
from src._base.ports.common import PORTED, VALIDATED, Port, publications
from src._base.ports.databricks import (
    CONF,
    HISTORY_STATUS,
    PUBLISHED,
    day_table,
    pipeline_spec,
    self_reads,
)
from src._base.ports.proof import PortResult, _normal, _pg_select, diff_keyed, open_end_column
from src._base.ports.sdp_local import LocalCatalog, run_pipeline
from src.config import ConnectionSettings, Settings
from src.utils.connections import connect_raw
from src.utils.errors import PipelineError
from src.utils.spark import find_jdbc_jar, jdbc_url, read_table

log = logging.getLogger(__name__)

TARGET = "databricks"
LOAD_COLUMNS = ("load_time",)  # when the row was written: differs by design


@dataclass(frozen=True)
class Comparison:
    """One ``<table>__day`` against the warehouse's rows of the date."""

    transform: str
    table: str  # the port's day table is <table>__day
    columns: tuple[str, ...]
    keys: tuple[str, ...]
    source: str  # the warehouse's table
    where: str  # its rows of the date (PostgreSQL)
    port_filter: str = ""  # Spark SQL condition on the day table's rows
    last_day_only: bool = False
    port_keys_only: bool = False  # the warehouse's rows of the keys the port has
    newer: str = ""  # UpsertRows: leave out rows the stored state is newer than


def _hist_columns(tables: dict[str, Any], table: str) -> list[str]:
    return [c.name for c in tables[table].columns if c.name not in ("sys_start", "sys_end")]


def _comparisons(entry: TransformEntry, tables: dict[str, Any], params: dict[str, str],
                 batch: str) -> list[Comparison]:  # fmt: skip
    """What each output of ``entry`` is compared with, for the date of ``params``."""
    spec = entry.spec
    day, as_of, known_at = params["day"], params["as_of"], params["known_at"]
    found: list[Comparison] = []
    if isinstance(spec, BronzeAppend):
        target = tables[spec.target]
        skip = {c.name for c in target.primary_key.columns} | set(LOAD_COLUMNS)
        columns = tuple(c.name for c in target.columns if c.name not in skip)
        found.append(Comparison(
            entry.name, spec.target, columns, columns, spec.target, f"batch_id = '{batch}'"
        ))  # fmt: skip
    if isinstance(spec, SnapshotIntoHistory):
        columns = (*spec.keys, *spec.columns)
        [key] = spec.keys if len(spec.keys) == 1 else (None,)
        quarantined = (
            f" AND {key}::text NOT IN (SELECT record_key FROM {spec.quarantine} WHERE job = "
            f"'{entry.name}' AND logical_date = DATE '{day}' AND record_key IS NOT NULL)"
            if key
            else ""
        )
        found.append(Comparison(
            entry.name, spec.hist, columns, tuple(spec.keys), spec.hist,
            f"sys_start <= TIMESTAMPTZ '{as_of}+00' AND sys_end > TIMESTAMPTZ '{as_of}+00'"
            f"{quarantined}",
            port_filter="is_valid",
        ))  # fmt: skip
    if isinstance(spec, SnapshotIntoHistory | SilverBatchLoad):
        columns = ("job", "logical_date", "source_table", "record_key", "rule", "batch_id",
                   "record", "effective_time")  # fmt: skip
        found.append(Comparison(
            entry.name, f"{spec.quarantine}__{entry.name}", columns, columns[:5],
            spec.quarantine, f"job = '{entry.name}' AND logical_date = DATE '{day}'",
        ))  # fmt: skip
    if isinstance(spec, SilverBatchLoad):
        for part in publications(spec.publish) or []:
            found.append(_publication(entry, part, tables, params))
    if isinstance(spec, GoldSnapshot):
        columns = tuple(_hist_columns(tables, spec.target))
        found.append(Comparison(
            entry.name, spec.target, columns, tuple(spec.keys), spec.target,
            f"business_date = DATE '{day}' AND sys_start <= TIMESTAMPTZ '{known_at}+00' "
            f"AND sys_end > TIMESTAMPTZ '{known_at}+00'",
        ))  # fmt: skip
    return found


def _publication(entry: TransformEntry, part: Any, tables: dict[str, Any],
                 params: dict[str, str]) -> Comparison:  # fmt: skip
    if isinstance(part, ReplaceRows):
        key = tuple(c.name for c in tables[part.target].primary_key.columns)
        return Comparison(
            entry.name, part.target, tuple(part.columns), key, part.target,
            part.where.format(**params),
        )  # fmt: skip
    if isinstance(part, UpsertRows):
        columns = (part.key, *(c for c in part.update if c != part.key))
        return Comparison(
            entry.name, part.target, columns, (part.key,), part.target, "TRUE",
            last_day_only=True, port_keys_only=True, newer=part.newer,
        )  # fmt: skip
    assert isinstance(part, MergeHistory)
    columns = (*part.keys, *part.columns)
    as_of = params["as_of"]
    return Comparison(
        entry.name, part.hist, columns, tuple(part.keys), part.hist,
        f"sys_start <= TIMESTAMPTZ '{as_of}+00' AND sys_end > TIMESTAMPTZ '{as_of}+00'",
        last_day_only=True, port_keys_only=True,
    )  # fmt: skip


def _export_tables(spark: Any, warehouse: ConnectionSettings, raw: Any,
                   tables: Iterable[str], folder: Path) -> dict[str, str]:  # fmt: skip
    """Every table as Parquet under ``folder`` (infinity as 9999-12-31): name → path."""
    paths = {}
    for table in tables:
        shown = [open_end_column(name, kind) for name, kind, _ in table_columns(raw, table)]
        path = folder / table
        frame = read_table(spark, warehouse, f"(SELECT {', '.join(shown)} FROM {table}) q")
        frame.write.mode("overwrite").parquet(str(path))
        paths[table] = str(path)
    return paths


def _pgpass(folder: Path, source: ConnectionSettings) -> dict[str, str]:
    """The source's password for the pipeline's JDBC reads, in a 0600 file the PostgreSQL
    driver reads (``PGPASSFILE``): never in the spec or on a command line."""
    if source.password is None:
        return {}
    path = folder / "pgpass"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as out:
        password = source.password.get_secret_value().replace("\\", "\\\\").replace(":", "\\:")
        out.write(f"{source.host}:{source.port}:*:{source.user}:{password}\n")
    return {"PGPASSFILE": str(path)}


def _port_rows(spark: Any, catalog: LocalCatalog, comparison: Comparison) -> list[tuple]:
    path = catalog.table_path(day_table(comparison.table))
    frame = spark.read.parquet(str(path))
    if comparison.port_filter:
        frame = frame.where(comparison.port_filter)
    return [tuple(row) for row in frame.select(*comparison.columns).collect()]


def _port_types(spark: Any, catalog: LocalCatalog, table: str) -> dict[str, str]:
    schema = spark.read.parquet(str(catalog.table_path(day_table(table)))).schema
    return {f.name: f.dataType.simpleString() for f in schema.fields}


def _type_drift(raw: Any, table: str, port_types: dict[str, str]) -> list[str]:
    """Columns the port holds in another type family (Spark has no UUID or JSON type)."""
    drift = []
    for name, kind, _ in table_columns(raw, table):
        if name in port_types and kind in ("uuid", "jsonb", "json"):
            drift.append(f"{name}: {kind} → {port_types[name]}")
    return drift


def _compare(raw: Any, comparison: Comparison, port_rows: list[tuple], day: date,
             result: PortResult) -> tuple[Decimal, str]:  # fmt: skip
    """Add the day's comparison to ``result``; returns its largest numeric difference."""
    kinds = {name: kind for name, kind, _ in table_columns(raw, comparison.source)}
    columns = list(comparison.columns)
    typed = [(c, kinds[c]) for c in columns]
    expected = _pg_select(raw, comparison.source, typed, f" WHERE {comparison.where}")
    expected = [tuple(map(_normal, row)) for row in expected]
    ported = [tuple(map(_normal, row)) for row in port_rows]
    key_at = [columns.index(k) for k in comparison.keys]
    if comparison.newer:  # upserts: leave out the rows the stored state overtook
        newer_at = columns.index(comparison.newer)
        stored = {tuple(row[i] for i in key_at): row for row in expected}
        ported = [
            row for row in ported
            if not stored.get(tuple(row[i] for i in key_at), row)[newer_at] > row[newer_at]
        ]  # fmt: skip
    if comparison.port_keys_only:
        kept = {tuple(row[i] for i in key_at) for row in ported}
        expected = [row for row in expected if tuple(row[i] for i in key_at) in kept]
    result.rows["spark"] = result.rows.get("spark", 0) + len(expected)
    result.rows[TARGET] = result.rows.get(TARGET, 0) + len(ported)
    return diff_keyed(expected, ported, typed, result, f"{day}: ", exact=comparison.keys)


def check_databricks(
    settings: Settings,
    conn: ConnectionSettings,
    database: str,
    days: Sequence[date],
    spark: Any,
    port: Port,
    spark_warehouse: ConnectionSettings | None = None,
    work_dir: Path | None = None,
    dry_run: bool = True,
) -> list[PortResult]:
    """Run ``port`` (Databricks) with ``spark-pipelines`` for ``days``; compare with the
    spark engine's warehouse (loaded here unless given). ``work_dir``: where the project,
    the local catalog and the runs' logs go, kept (default: a temporary folder).
    ``dry_run``: also validate the whole project (one more row: ``history/``)."""
    if spark_warehouse is None:
        spark_warehouse, errors, _ = run_engine(settings, conn, database, "spark", days, spark)
        if errors:
            raise PipelineError(f"The spark engine failed: {errors}")
    catalogue = load_catalogue(settings.src_path, database)
    tables = project_tables(settings.src_path, database)
    raw = connect_raw(spark_warehouse)
    jar = find_jdbc_jar(settings)
    try:
        with contextlib.ExitStack() as stack:
            folder = work_dir or Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{database}_dbx_"))
            )
            project = folder / "project"
            port.write(project)
            catalog = LocalCatalog(folder / "catalog")
            paths = _export_tables(spark, spark_warehouse, raw, sorted(tables), folder / "seed")
            views = {f"{t}{PUBLISHED}": f"SELECT * FROM {t}" for t in self_reads(catalogue)}
            schemas = sorted({t.split(".")[0] for t in tables})
            catalog.prepare(schemas, paths, views)
            source = run_config(settings, conn, database, days[0]).source
            env = _pgpass(folder, source)
            kept = work_dir is not None
            results = _run_days(settings, conn, database, days, spark, port, catalogue,
                                tables, raw, catalog, project, jar, env, kept)  # fmt: skip
            if dry_run:
                results.append(
                    _dry_run(settings, conn, database, days[-1], project, catalog, jar, env)
                )
    finally:
        raw.close()
    return results


def _configuration(settings: Settings, conn: ConnectionSettings, database: str,
                   day: date) -> dict[str, str]:  # fmt: skip
    cfg = run_config(settings, conn, database, day)
    values = {f"{CONF}.{name}": value for name, value in cfg.params().items()}
    source = cfg.source_named("", "postgres").target  # the port reads one of each kind
    return values | {
        f"{CONF}.landing": str(cfg.source_named("", "landing").target),
        f"{CONF}.source.url": jdbc_url(source),  # type: ignore[arg-type]
        f"{CONF}.source.user": source.user,  # type: ignore[union-attr]
        "spark.sql.session.timeZone": "UTC",
    }


def _run_days(settings: Settings, conn: ConnectionSettings, database: str,
              days: Sequence[date], spark: Any, port: Port, catalogue: Any,
              tables: dict[str, Any], raw: Any, catalog: LocalCatalog, project: Path,
              jar: Path, env: dict[str, str], work_dir_kept: bool) -> list[PortResult]:  # fmt: skip
    by_name = {p.name: p for p in port.transforms}
    results: dict[tuple[str, str], PortResult] = {}
    largest: dict[tuple[str, str], tuple[Decimal, str]] = {}
    for entry in catalogue.entries:
        for table in entry.outputs:
            status = by_name[entry.name]
            results[(entry.name, table)] = PortResult(
                entry.name, table, TARGET, status.status, status.reason
            )
    for day in days:
        configuration = _configuration(settings, conn, database, day)
        spec = project / f"run-{day}.yml"
        spec.write_text(pipeline_spec(
            f"medallion_{database}", (catalog.folder / f"storage-{day}").as_uri(),
            configuration, ("transformations/**",),
        ))  # fmt: skip
        run = run_pipeline(spec, catalog, jdbc_jar=jar, env=env)
        cfg = run_config(settings, conn, database, day)
        params = cfg.params()
        for entry in catalogue.entries:
            if by_name[entry.name].status != PORTED:
                continue
            batch = str(cfg.batch_id(entry.name))
            for comparison in _comparisons(entry, tables, params, batch):
                output = comparison.table
                if output not in entry.outputs:  # the job's quarantine rows
                    output = output.split("__")[0]
                result = results[(entry.name, output)]
                if not run.ok:
                    kept = f" (log: {run.log_path})" if work_dir_kept else ""
                    result.error = result.error or f"{day}: {run.error}{kept}"
                    continue
                if comparison.last_day_only and day != days[-1]:
                    continue
                try:
                    rows = _port_rows(spark, catalog, comparison)
                    types = _port_types(spark, catalog, comparison.table)
                except Exception as exc:  # a day table the run did not write
                    result.error = result.error or f"{day}: {day_table(comparison.table)}: {exc}"
                    continue
                result.type_drift = _type_drift(raw, comparison.source, types)
                difference = _compare(raw, comparison, rows, day, result)
                at = (entry.name, output)
                largest[at] = max(largest.get(at, (Decimal(0), "")), difference, key=lambda d: d[0])
                result.largest_difference = largest[at][1]
    for result in results.values():
        result.equal = result.status == PORTED and not result.error and not result.first_keys
    return list(results.values())


def _dry_run(settings: Settings, conn: ConnectionSettings, database: str, day: date,
             project: Path, catalog: LocalCatalog, jar: Path,
             env: dict[str, str]) -> PortResult:  # fmt: skip
    """``spark-pipelines dry-run`` of the whole project, ``history/`` too: one row."""
    spec = project / "dry-run.yml"
    spec.write_text(pipeline_spec(
        f"medallion_{database}", (catalog.folder / "storage-dry").as_uri(),
        _configuration(settings, conn, database, day),
    ))  # fmt: skip
    run = run_pipeline(spec, catalog, jdbc_jar=jar, env=env, dry=True)
    result = PortResult(
        "(every transform)", "history/: once flows, AUTO CDC", TARGET, VALIDATED, HISTORY_STATUS
    )
    result.error = "" if run.ok else f"dry-run: {run.error} (log: {run.log_path})"
    return result


__all__ = ["check_databricks"]

"""Pieces every silver load uses: read the published bronze batch, stage and publish
rejects to the quarantine table, count them by rule; and the whole
snapshot-into-history load (:func:`run_snapshot_load`, declared with
:class:`~src._base.pipeline.shapes.SnapshotIntoHistory`) master data shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from src._base.pipeline.claims import Claim, claim_load
from src._base.pipeline.frames import read_jdbc, register
from src._base.pipeline.merge import quarantine_sql, temporal_merge_sql
from src._base.pipeline.publish import Publication, publication
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

    from src._base.pipeline.shapes import SilverBatchLoad, SnapshotIntoHistory

QUARANTINE_COLUMNS = ("record_key", "rule", "record")


def register_batch(
    spark: SparkSession, cfg: RunConfig, table: str, batch_id: object, view: str
) -> DataFrame:
    """The rows one bronze batch wrote to ``table``, as the temporary view ``view``.

    Read in ``cfg.read_partitions`` parallel queries, split on the last byte of the
    table's UUID key (``bronze.br_trade`` → ``br_trade_id``).
    """
    key = f"{table.rsplit('.', 1)[-1]}_id"
    query = f"(SELECT * FROM {table} WHERE batch_id = '{batch_id}') AS q"
    df = read_jdbc(
        spark,
        cfg.warehouse,
        query,
        partitions=cfg.read_partitions,
        partition_sql=f"get_byte(uuid_send({key}), 15)",
    )
    return register(df, view)


def publish_rejects(pub: Publication, rejects: DataFrame, quarantine: str, source: str) -> dict:
    """Stage ``rejects`` (record_key, rule, record) and queue the quarantine replace.

    Returns the reject count by rule, which also becomes the load's ``rows_rejected``.
    """
    counts = {
        row["rule"]: int(row["n"])
        for row in rejects.groupBy("rule").count().withColumnRenamed("count", "n").collect()
    }
    stage = pub.stage(rejects.select(*QUARANTINE_COLUMNS), "rejects")
    return queue_quarantine(pub, stage, counts, quarantine, source)


def queue_quarantine(
    pub: Publication, stage: str, counts: dict[str, int], quarantine: str, source: str
) -> dict[str, int]:
    """Queue the replace of the load's rejects by the staged ones (either engine)."""
    params = {
        "job": pub.job,
        "day": pub.cfg.logical_date,
        "source": source,
        "batch": str(pub.batch_id),
        "at": pub.cfg.system_time,
    }
    pub.execute(quarantine_sql(quarantine, stage), params)
    pub.rejected = sum(counts.values())
    return counts


def run_snapshot_load(
    spark: SparkSession, cfg: RunConfig, name: str, load: SnapshotIntoHistory
) -> TransformResult:
    """Validate, quarantine and merge one day's snapshot; versions start at system time."""
    result = TransformResult(name, "silver")
    with claim_load(cfg, name, inputs=load.inputs, in_order=True) as claim:
        if claim.skipped:
            result.skipped = claim.skipped
            return result
        _merge_snapshot(spark, claim, load, result)
    return result


def _merge_snapshot(
    spark: SparkSession, claim: Claim, load: SnapshotIntoHistory, result: TransformResult
) -> None:
    cfg = claim.cfg
    with publication(claim) as pub:
        result.timings = pub.timings  # filled in as the load stages and publishes
        result.output_types = pub.staged_types
        batch = claim.batches[load.input]
        register_batch(spark, cfg, load.bronze_table, batch, load.bronze_view)
        load.register_lookups(spark, cfg)
        checked = register(spark.sql(load.checked).cache(), "checked")
        try:
            snapshot = pub.stage(spark.sql(load.snapshot), "snapshot")
            rejects = spark.sql(load.rejects)
            result.rejected = publish_rejects(pub, rejects, load.quarantine, load.bronze_table)
            for sql in temporal_merge_sql(
                load.hist, load.keys, load.columns, snapshot, valid="is_valid"
            ):
                pub.execute(sql)
            pub.system_time = cfg.system_time
            result.rows_read = pub.read = checked.count()
            result.rows_written = pub.written = pub.read - pub.rejected
        finally:
            checked.unpersist()


def run_batch_load(
    spec: SilverBatchLoad, cfg: RunConfig, name: str, open_steps: Callable[[Claim], Any]
) -> TransformResult:
    """Run a :class:`~src._base.pipeline.shapes.SilverBatchLoad` on any engine:
    ``open_steps(claim)`` gives the engine's views (Spark or PostgreSQL)."""
    result = TransformResult(name, "silver")
    with claim_load(cfg, name, inputs=spec.inputs, in_order=spec.in_order) as claim:
        if claim.skipped:
            result.skipped = claim.skipped
            return result
        steps = open_steps(claim)
        try:
            with publication(claim) as pub:
                result.timings = pub.timings  # filled in as the load stages and publishes
                result.output_types = pub.staged_types
                _batch_steps(spec, claim, steps, pub, result)
        finally:
            steps.close()
    return result


def _batch_steps(
    spec: SilverBatchLoad, claim: Claim, steps: Any, pub: Publication, result: TransformResult
) -> None:
    steps.batch(spec.bronze_view, spec.bronze_table, claim.batches[spec.input])
    for view, read in spec.lookups.items():
        steps.read(view, read)
    steps.step("checked", spec.checked, table=True)
    staged = {}
    for view, sql in spec.staged.items():
        steps.step(view, sql, key=spec.key)
        staged[view] = steps.stage(pub, view, dict(spec.types))
    steps.step("rejects", spec.rejects)
    stage = steps.stage(pub, "rejects", {})
    counts = dict(_rows(pub, f"SELECT rule, count(*) FROM {stage} GROUP BY rule"))
    result.rejected = queue_quarantine(pub, stage, counts, spec.quarantine, spec.bronze_table)
    for sql in spec.publish(staged, claim.cfg):
        pub.execute(sql)
    for note, sql in spec.notes.items():
        steps.step(note, sql)
        result.notes[note] = int(steps.scalar(note) or 0)
    if spec.in_order:
        pub.system_time = claim.cfg.system_time
    result.rows_read = pub.read = steps.count("checked")
    result.rows_written = pub.written = pub.staged_rows[next(iter(spec.staged))]


def _rows(pub: Publication, sql: str) -> list[tuple]:
    with pub.raw.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()

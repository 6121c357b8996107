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
from src.utils.connections import fetch_rows

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

    from src._base.pipeline.shapes import SilverBatchLoad, SnapshotIntoHistory


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


def queue_quarantine(
    pub: Publication, stage: str, counts: dict[str, int], quarantine: str, source: str
) -> dict[str, int]:
    """Queue the replace of the load's rejects by the staged ones (either engine)."""
    params = {
        "job": pub.name,
        "day": pub.cfg.logical_date,
        "source": source,
        "batch": str(pub.batch_id),
        "at": pub.cfg.system_time,
    }
    pub.execute(quarantine_sql(quarantine, stage), params)
    pub.rejected = sum(counts.values())
    return counts


def run_silver_load(
    spec: SilverBatchLoad | SnapshotIntoHistory,
    cfg: RunConfig,
    name: str,
    open_steps: Callable[[Claim], Any],
    body: Callable[[Any, Claim, Any, Publication, TransformResult], None],
) -> TransformResult:
    """Claim, check and publish a silver load on any engine: ``open_steps(claim)`` gives
    the engine's views (Spark or PostgreSQL), ``body`` stages and queues the SQL."""
    result = TransformResult(name, "silver")
    in_order = getattr(spec, "in_order", True)  # snapshots into history always keep order
    with claim_load(cfg, name, inputs=spec.inputs, in_order=in_order) as claim:
        if claim.skipped:
            result.skipped = claim.skipped
            return result
        steps = open_steps(claim)
        try:
            with publication(claim, result) as pub:
                steps.batch(spec.bronze_view, spec.bronze_table, claim.batches[spec.input])
                for view, read in spec.lookups.items():
                    steps.read(view, read)
                for view, sql in spec.prepare.items():
                    steps.step(view, sql)
                steps.step("checked", spec.checked, table=True)  # read more than once
                pub.read = steps.count("checked")
                body(spec, claim, steps, pub, result)
                pub.analyze_after(*spec.outputs)
                result.rows_read = pub.read
        finally:
            steps.close()
    return result


def quarantine_rejects(spec: Any, steps: Any, pub: Publication) -> dict[str, int]:
    """Stage the ``rejects`` step and queue the replace of the load's quarantined rows."""
    steps.step("rejects", spec.rejects)
    stage = steps.stage(pub, "rejects", {})
    counts = dict(fetch_rows(pub.raw, f"SELECT rule, count(*) FROM {stage} GROUP BY rule"))
    return queue_quarantine(pub, stage, counts, spec.quarantine, spec.bronze_table)


def snapshot_steps(
    spec: SnapshotIntoHistory, claim: Claim, steps: Any, pub: Publication, result: TransformResult
) -> None:
    """Merge the day's snapshot into history; a rejected row never closes its version."""
    steps.step("snapshot", spec.snapshot)
    snapshot = steps.stage_read_once(pub, "snapshot")  # by the merge's one diff
    result.rejected = quarantine_rejects(spec, steps, pub)
    for sql in temporal_merge_sql(spec.hist, spec.keys, spec.columns, snapshot, valid="is_valid"):
        pub.execute(sql)
    pub.system_time = claim.cfg.system_time
    result.rows_written = pub.written = pub.read - pub.rejected


def batch_steps(
    spec: SilverBatchLoad, claim: Claim, steps: Any, pub: Publication, result: TransformResult
) -> None:
    """Stage the declared outputs, quarantine rejects, queue the transform's own SQL."""
    staged = {}
    for view, sql in spec.staged.items():
        steps.step(view, sql, key=spec.key)
        staged[view] = steps.stage(pub, view, dict(spec.types))
    result.rejected = quarantine_rejects(spec, steps, pub)
    for sql in spec.publish(staged, claim.cfg):
        pub.execute(sql)
    for note, sql in spec.notes.items():
        steps.step(note, sql)
        result.notes[note] = int(steps.scalar(note) or 0)
    if spec.in_order:
        pub.system_time = claim.cfg.system_time
    result.rows_written = pub.written = pub.staged_rows[next(iter(spec.staged))]

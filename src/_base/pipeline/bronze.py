"""Append one day's batch to a bronze table, once.

    landed = spark.sql("SELECT ... FROM src_trade_event")      # the transform's mapping
    return append_batch(cfg, "trade_to_bronze", landed,
                        target="bronze.br_trade", source="demo_source.ops.trade_event")

The batch id is derived from the job and the date. The load is claimed first (one run
per job and date at a time); under the claim, a date already loaded is skipped (the load
log says ``succeeded``) and rows a crashed attempt left are deleted. Rows go in with COPY
per partition, and the load log row commits the batch.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from src._base.pipeline.claims import claim_load
from src._base.pipeline.frames import content_hash_sql, write_frame
from src._base.pipeline.publish import publication
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)


def with_load_metadata(cfg: RunConfig, job: str, landed: DataFrame, source: str) -> DataFrame:
    """``landed`` plus batch id, logical date, load time, source and content hash."""
    from pyspark.sql import functions as sf

    batch = str(cfg.batch_id(job))
    return landed.withColumns(
        {
            "batch_id": sf.lit(batch),
            "logical_date": sf.lit(cfg.logical_date),
            "load_time": sf.current_timestamp(),
            "source": sf.lit(source),
            "content_hash": sf.expr(content_hash_sql(landed.columns)),
        }
    )


def append_batch(
    cfg: RunConfig, job: str, landed: DataFrame, *, target: str, source: str
) -> TransformResult:
    started = time.perf_counter()
    result = TransformResult(job, "bronze")
    with claim_load(cfg, job, skip_loaded=True) as claim:
        if claim.skipped:
            result.skipped = claim.skipped
            return result
        with publication(claim) as pub:
            with pub.raw.cursor() as cur:  # leftovers of a crashed attempt: never published
                cur.execute(f"DELETE FROM {target} WHERE batch_id = %s", (str(pub.batch_id),))
            pub.raw.commit()
            rows = write_frame(
                with_load_metadata(cfg, job, landed, source), cfg.warehouse, target, cfg.writer
            )
            pub.read = pub.written = result.rows_read = result.rows_written = rows
            pub.analyze_after(target)
    result.seconds = time.perf_counter() - started
    return result

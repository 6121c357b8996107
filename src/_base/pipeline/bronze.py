"""Append one day's batch to a bronze table, once.

    landed = spark.sql("SELECT ... FROM src_trade_event")      # the transform's mapping
    return append_batch(cfg, "trade_to_bronze", landed,
                        target="bronze.br_trade", source="demo_source.ops.trade_event")

The batch id is derived from the job and the date. The load is claimed first (one run
per job and date at a time); under the claim, a date already loaded is skipped (the load
log says ``succeeded``) and rows a crashed attempt left are deleted. Rows go in with COPY
per partition, and the load log row commits the batch. A published batch being replaced
(``--reload``, or a partial day loaded again) is staged first and swapped in the
publishing transaction.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from src._base.pipeline.claims import claim_load
from src._base.pipeline.frames import content_hash_sql, write_frame
from src._base.pipeline.publish import Publication, publication
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src.utils import faults
from src.utils.connections import relation_columns

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
    cfg: RunConfig,
    job: str,
    landed: DataFrame,
    *,
    target: str,
    source: str,
    empty_ok: bool = False,
    accepted: str | None = None,
    note: str | None = None,
) -> TransformResult:
    """Append ``landed`` as the date's batch of ``job``; no rows fail the load unless
    ``empty_ok`` (:func:`~src._base.pipeline.shapes.require_rows`). ``accepted``: what
    reading the source accepted (files missing from a partial day), recorded; ``note``:
    what else the load log keeps of it (the snapshot read)."""
    from src._base.pipeline.shapes import require_rows

    started = time.perf_counter()
    result = TransformResult(job, "bronze")
    with claim_load(cfg, job, skip_loaded=True) as claim:
        if claim.skipped:
            result.skipped = claim.skipped
            return result
        with publication(claim) as pub:
            pub.accept(accepted)
            pub.note = note
            frame = with_load_metadata(cfg, job, landed, source)
            if claim.replacing:
                rows = _replace_batch(pub, frame, target)
            else:
                with pub.raw.cursor() as cur:  # leftovers of a crashed attempt: unpublished
                    cur.execute(f"DELETE FROM {target} WHERE batch_id = %s", (str(pub.batch_id),))
                pub.raw.commit()
                rows = write_frame(frame, cfg.warehouse, target, cfg.writer)
            faults.point("copied", job)
            require_rows(cfg, job, rows, source, empty_ok)
            pub.read = pub.written = result.rows_read = result.rows_written = rows
            pub.analyze_after(target)
    result.seconds = time.perf_counter() - started
    return result


def _replace_batch(pub: Publication, frame: DataFrame, target: str) -> int:
    """Stage the new batch, then swap it for the published one in the publishing
    transaction: readers see the old batch or the new one, never neither."""
    kinds = dict(relation_columns(pub.raw, target))
    staged = pub.stage(frame, "batch", types={c: kinds[c] for c in frame.columns if c in kinds})
    names = ", ".join(f'"{c}"' for c in frame.columns)
    pub.execute(f"DELETE FROM {target} WHERE batch_id = %s", (str(pub.batch_id),))
    pub.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {staged}")
    return pub.staged_rows["batch"]

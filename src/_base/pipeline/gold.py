"""Publish a gold snapshot: the rows of one business date, replaced in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from src._base.pipeline.claims import claim_load
from src._base.pipeline.merge import replace_sql
from src._base.pipeline.publish import Publication, publication
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame


def publish_snapshot(
    cfg: RunConfig,
    job: str,
    snapshot: DataFrame,
    target: str,
    *,
    key: str,
    inputs: tuple[str, ...],
) -> TransformResult:
    """Replace ``target``'s rows for the logical date (``business_date``) by ``snapshot``.

    ``key`` is the snapshot's UUID key column (a name-based UUID, same on every run);
    ``inputs`` are the loads that must have succeeded for the date (checked under the
    load's claim, before the lazy ``snapshot`` reads anything).
    """
    result = TransformResult(job, "gold")
    with claim_load(cfg, job, inputs=inputs) as claim, publication(claim) as pub:
        result.timings = pub.timings  # filled in as the load stages and publishes
        result.output_types = pub.staged_types
        stage = pub.stage(snapshot, "snapshot", types={key: "uuid"})
        replace_day(pub, stage, target, snapshot.columns)
    result.rows_read = result.rows_written = pub.written
    return result


def replace_day(pub: Publication, stage: str, target: str, columns: Sequence[str]) -> None:
    """Queue the replace of ``target``'s rows of the logical date by the staged snapshot."""
    where = f"business_date = '{pub.cfg.logical_date.isoformat()}'"
    for sql in replace_sql(target, stage, columns, where):
        pub.execute(sql)
    pub.written = pub.read = pub.staged_rows["snapshot"]

"""Publish a gold snapshot: the rows of one business date, replaced in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from src._base.pipeline.claims import Claim, claim_load
from src._base.pipeline.merge import replace_sql
from src._base.pipeline.publish import Publication, publication
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

if TYPE_CHECKING:  # pragma: no cover
    from src._base.pipeline.shapes import GoldSnapshot


def run_gold_snapshot(
    spec: GoldSnapshot, cfg: RunConfig, name: str, open_steps: Callable[[Claim], Any]
) -> TransformResult:
    """Replace the target's rows of the logical date by the last step's result, on any
    engine (``open_steps(claim)`` gives its views). Inputs are checked under the claim,
    before any step reads."""
    result = TransformResult(name, "gold")
    with claim_load(cfg, name, inputs=spec.inputs) as claim:
        steps = open_steps(claim)
        with publication(claim, result) as pub:
            for view, read in spec.reads.items():
                steps.read(view, read)
            for view, sql in spec.steps.items():
                steps.step(view, sql, key=spec.key)
            stage = steps.stage(pub, view, {spec.key_column: "uuid"}, name="snapshot")
            replace_day(pub, stage, spec.target, steps.columns(view))
    result.rows_read = result.rows_written = pub.written
    return result


def replace_day(pub: Publication, stage: str, target: str, columns: Sequence[str]) -> None:
    """Queue the replace of ``target``'s rows of the logical date by the staged snapshot."""
    where = f"business_date = '{pub.cfg.logical_date.isoformat()}'"
    for sql in replace_sql(target, stage, columns, where):
        pub.execute(sql)
    pub.written = pub.read = pub.staged_rows["snapshot"]

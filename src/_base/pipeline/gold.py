"""Publish a gold snapshot: the rows of one business date, versioned, in one transaction.

Gold tables are temporal. A run for date D reads silver (and earlier gold) as of
``cfg.known_at`` and writes its versions at that same system time:

* a plain run (``known_at`` = D's system time) reproduces what was reported for D, so a
  rerun at any later point changes nothing;
* a restatement (``--restate``, ``known_at`` = the restatement's time) recomputes D from
  what is known then; the rows that change get new versions, and the reported ones stay
  readable with ``<view>__as_of(<D's system time>)``.

A plain rerun of a date restated since may not change the reported version beneath the
restatement: when its result differs from what was reported, it fails and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from src._base.pipeline.claims import Claim, claim_load
from src._base.pipeline.merge import temporal_merge_sql
from src._base.pipeline.publish import Publication, publication
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src.utils.connections import fetch_rows
from src.utils.errors import PipelineError

if TYPE_CHECKING:  # pragma: no cover
    from src._base.pipeline.shapes import GoldSnapshot

log = logging.getLogger(__name__)


def run_gold_snapshot(
    spec: GoldSnapshot, cfg: RunConfig, name: str, open_steps: Callable[[Claim], Any]
) -> TransformResult:
    """Make the target's rows of the logical date the last step's result, on any engine
    (``open_steps(claim)`` gives its views). Inputs are checked under the claim, before
    any step reads."""
    check_restatement(cfg, name)
    result = TransformResult(name, "gold")
    with claim_load(cfg, name, inputs=spec.inputs) as claim:
        steps = open_steps(claim)
        with publication(claim, result) as pub:
            pub.system_time = cfg.known_at
            for view, read in spec.reads.items():
                steps.read(view, read)
            for view, sql in spec.steps.items():
                steps.step(view, sql)
            stage = steps.stage(pub, view, {}, name="snapshot")
            publish_day(pub, stage, spec, steps.columns(view))
    result.rows_read = pub.read
    result.rows_written = pub.written
    return result


def check_restatement(cfg: RunConfig, name: str) -> None:
    if cfg.restated_at is not None and cfg.restated_at <= cfg.system_time:
        raise PipelineError(
            f"{name}: cannot restate {cfg.logical_date} at {cfg.known_at:%Y-%m-%d %H:%M:%S}Z, "
            f"before or at the date's own system time {cfg.system_time:%Y-%m-%d %H:%M}Z: the "
            "date has not closed yet. Run it without --restate."
        )


def publish_day(pub: Publication, stage: str, spec: GoldSnapshot, columns: Sequence[str]) -> None:
    """Queue the versioned replace of the target's rows of the logical date by the staged
    snapshot: changed rows get new versions, rows gone are closed, unchanged ones stay."""
    day, known_at = pub.cfg.logical_date, pub.cfg.known_at
    scope = f"business_date = DATE '{day.isoformat()}'"
    pub.read = pub.staged_rows["snapshot"]
    later = _changed_after(pub, spec.target, scope)
    if later is not None:
        if _differs_from_reported(pub, stage, spec.target, scope, columns):
            raise PipelineError(
                f"{pub.job}: {spec.target} for {day} was restated at {later}; this run's "
                f"result (silver as of {known_at:%Y-%m-%d %H:%M}Z) differs from what was "
                "reported then, and a plain run cannot change the reported version beneath "
                "a restatement. Rerun with --restate to restate the date again."
            )
        log.info("%s: %s for %s was restated at %s; the reported version is unchanged",
                 pub.job, spec.target, day, later)  # fmt: skip
        pub.written = 0
        return
    values = [c for c in columns if c not in spec.keys]
    for sql in temporal_merge_sql(spec.target, spec.keys, values, stage, scope=scope):
        pub.execute(sql)
    pub.analyze_after(spec.target)
    pub.written = pub.read


def _changed_after(pub: Publication, target: str, scope: str) -> Any:
    """The latest change of the date's rows after ``known_at`` (a restatement), or None."""
    [[later]] = fetch_rows(
        pub.raw,
        f"SELECT greatest(max(sys_start) FILTER (WHERE sys_start > %(t)s),"
        f" max(sys_end) FILTER (WHERE sys_end > %(t)s AND sys_end <> 'infinity'))"
        f" FROM {target} WHERE {scope}",
        {"t": pub.cfg.known_at},
    )
    return later


def _differs_from_reported(
    pub: Publication, stage: str, target: str, scope: str, columns: Sequence[str]
) -> bool:
    cols = ", ".join(f'"{c}"' for c in columns)
    reported = (
        f"SELECT {cols} FROM {target} WHERE {scope}" " AND sys_start <= %(t)s AND sys_end > %(t)s"
    )
    staged = f"SELECT {cols} FROM {stage}"
    [[differs]] = fetch_rows(
        pub.raw,
        f"SELECT EXISTS (({staged} EXCEPT {reported}) UNION ALL ({reported} EXCEPT {staged}))",
        {"t": pub.cfg.known_at},
    )
    return bool(differs)

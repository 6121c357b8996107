"""Is a bronze load's source ready for its date? What a sensor waits on, before the load.

    reason = source_ready(cfg, "trade_to_bronze", spec)   # None: ready; else why not yet

Ready means the load would find what a complete day holds: the day is over (or accepted
as partial), the source answers, a dated extract has rows for the date (unless the
transform says empty days are normal), a snapshot has rows, and landing files are all
there (every file the day's manifest expects, or at least one without a manifest). The
check only reads: counts and file listings, never the rows.
"""

from __future__ import annotations

from src._base.pipeline.batches import require_bronze_day
from src._base.pipeline.run_config import RunConfig
from src._base.pipeline.shapes import (
    BronzeAppend,
    LandingFiles,
    day_files,
    require_current_source,
)
from src._base.sources.resolve import probe
from src.utils.connections import connect_raw, fetch_rows
from src.utils.errors import MedallionError, PipelineError


def source_ready(cfg: RunConfig, name: str, spec: BronzeAppend) -> str | None:
    """None when ``spec``'s source is ready for ``cfg``'s date, else what it waits for."""
    try:
        require_bronze_day(cfg, name)  # the day is over, or accepted as partial
    except PipelineError as exc:
        return str(exc)
    if isinstance(spec.source, LandingFiles):
        try:
            day_files(cfg, name, spec.source)
        except MedallionError as exc:
            return str(exc)
        return None
    resolved = cfg.source_named(spec.source.source, "postgres")
    reason = probe(resolved, resolved.target.connect_timeout)  # type: ignore[union-attr]
    if reason is not None:
        return f"source '{resolved.name}' ({resolved.describe()}) does not answer: {reason}"
    raw = connect_raw(resolved.target)  # type: ignore[arg-type]
    try:
        try:
            require_current_source(cfg, name, spec.source, raw)
        except PipelineError as exc:
            return str(exc)
        if spec.empty_ok:
            return None
        query = spec.source.query(cfg.params())
        [(found,)] = fetch_rows(raw, f"SELECT EXISTS (SELECT 1 FROM {query})")
    finally:
        raw.close()
    if found:
        return None
    what = "for the date" if spec.source.where else "at all"
    return f"{resolved.target.database}.{spec.source.relation} has no rows {what} yet"  # type: ignore[union-attr]

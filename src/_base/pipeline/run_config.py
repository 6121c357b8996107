"""What a transform gets besides its SparkSession: ``run(spark, cfg)``.

Built once by the entry point (runner CLI, main job, Airflow task) from the settings and
the run's logical date, then passed down; a transform reads nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from src._base.sources.declared import ResolvedSource
from src.config import ConnectionSettings
from src.utils.errors import PipelineError

# Batch ids are name-based (uuid5 of job and date) so a rerun reuses the same id.
BATCH_NAMESPACE = uuid.UUID("6f0b7f4e-5a51-4f39-9d0c-6d6c1b3e2a10")


@dataclass(frozen=True)
class RunConfig:
    logical_date: date
    warehouse: ConnectionSettings  # the warehouse database (the project's, e.g. demo)
    source: ConnectionSettings  # the operational source database
    landing_dir: Path  # the landing zone of files (Parquet bars)
    writer: str = "copy"  # "copy" (COPY per partition) or "jdbc" (Spark's JDBC writer)
    read_partitions: int = 4  # JDBC read partitions for large inputs
    engine: str = "spark"  # "spark" or "postgres" (src._base.engines)
    restated_at: datetime | None = None  # --restate: gold from silver as known at this time
    # The project's declared sources, resolved (src._base.sources); a config made by hand
    # without them reads ``source`` and ``landing_dir``.
    sources: Mapping[str, ResolvedSource] = field(default_factory=dict)
    # A tenant's run: the project's layers are its schemas (tenant_<id>_<layer>), and its
    # loads are its own in the load log (see load_key).
    tenant: str | None = None
    tenant_layers: tuple[str, ...] = ()
    # Bronze: load a day that is not over (recorded as partial, loaded again once it is),
    # and replace a date's published batch (loads that read it then run again).
    accept_partial: bool = False
    reload: bool = False

    def load_key(self, job: str) -> str:
        """What the load log, the claims and batch ids know a load by: the transform's
        name, or ``<name>__<tenant>`` in a tenant's run."""
        return f"{job}__{self.tenant}" if self.tenant else job

    def source_named(self, name: str, kind: str) -> ResolvedSource:
        """The declared source ``name``; unnamed: the project's only source of ``kind``,
        or the run's default (``source`` / ``landing_dir``) when it declares none, or when
        this config was made by hand without sources (tests, benchmarks)."""
        if name and self.sources:
            if name not in self.sources:
                known = ", ".join(sorted(self.sources)) or "none"
                raise PipelineError(
                    f"Source '{name}' is not declared by the project (declared: {known}). "
                    "Add it to sources= of the project's DATABASE (src/<db>/<db>.py)."
                )
            return self.sources[name]
        of_kind = [s for s in self.sources.values() if s.kind == kind]
        if len(of_kind) == 1:
            return of_kind[0]
        default = self.source if kind == "postgres" else self.landing_dir
        variable = "MEDALLION_SOURCE_DATABASE" if kind == "postgres" else "MEDALLION_LANDING_DIR"
        return ResolvedSource("default", kind, default, f"the run's default ({variable})")

    @property
    def system_time(self) -> datetime:
        """The instant silver versions of this date start: midnight after it, UTC.

        Fixed per date, so a replay of the date reproduces the same history.
        """
        return datetime.combine(self.logical_date + timedelta(days=1), time(0), tzinfo=UTC)

    def __post_init__(self) -> None:
        if self.restated_at is not None and self.restated_at.tzinfo is None:
            raise PipelineError("restated_at must be timezone-aware (e.g. datetime.now(UTC)).")

    @property
    def known_at(self) -> datetime:
        """The system time gold reads silver (and earlier gold) as of, and versions its
        own rows at: the date's system time, so a rerun reproduces what was reported, or
        the restatement's time (``--restate``), so the date is recomputed from what is
        known then while the reported version stays readable."""
        return self.restated_at.astimezone(UTC) if self.restated_at else self.system_time

    @property
    def day_start(self) -> datetime:
        return datetime.combine(self.logical_date, time(0), tzinfo=UTC)

    def params(self) -> dict[str, str]:
        """Literals a transform's SQL is formatted with (see :mod:`.shapes`)."""
        day = self.logical_date
        return {
            "day": day.isoformat(),
            "prev": (day - timedelta(days=1)).isoformat(),
            "next": (day + timedelta(days=1)).isoformat(),
            "as_of": self.system_time.strftime("%Y-%m-%d %H:%M:%S"),
            "day_start": f"{day.isoformat()} 00:00:00",
            "known_at": self.known_at.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "year": f"{day.year}",
            "month": f"{day.month:02d}",
            "dd": f"{day.day:02d}",
        }

    def batch_id(self, job: str) -> uuid.UUID:
        """The batch of transform ``job`` for the date (and the tenant, in a tenant's run)."""
        key = self.load_key(job)
        return uuid.uuid5(BATCH_NAMESPACE, f"{key}/{self.logical_date.isoformat()}")

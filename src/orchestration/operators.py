"""The operators DAGs are built from: run a transform, run quality rules, publish a layer.

Each resolves the date(s) it works on from the run, in this order:

1. ``dag_run.conf["date"]`` (``YYYY-MM-DD``): a manual run or a backfill of one day
   (``"reload": true`` loads bronze again, replacing its batch; ``"accept_partial":
   true`` loads a day that is not complete, recorded; ``"engine"``: the engine of this
   run's loads, and of the downstream layers' runs its publication starts);
2. the dates carried by the asset events that triggered the run (an upstream layer
   publishes the dates it completed, so silver processes exactly bronze's dates);
3. the run's logical date (a scheduled daily run: the day its data interval starts).

Configuration is read when the task runs, never when the DAG file is parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from airflow.sdk import Asset, BaseOperator, BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException

from src.utils.errors import PipelineError

log = logging.getLogger(__name__)


def _conf(context: Any) -> dict[str, Any]:
    dag_run = context.get("dag_run")
    return (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}


def run_dates(context: Any, tenant: str | None = None) -> list[date]:
    """The logical date(s) this task instance processes, oldest first; for a tenant's
    task, the dates its own upstream asset carried. A tenant with nothing to do in this
    run (another tenant's event started it, or the conf names another tenant) is skipped."""
    conf = _conf(context)
    if tenant is not None and conf.get("tenant") not in (None, tenant):
        raise AirflowSkipException(f"this run is for tenant {conf['tenant']}")
    if conf.get("date"):
        return [date.fromisoformat(str(conf["date"]))]
    events = context.get("triggering_asset_events") or {}
    carried = {
        day
        for asset_events in events.values()
        for event in asset_events
        if tenant is None or (getattr(event, "extra", None) or {}).get("tenant") == tenant
        for day in (getattr(event, "extra", None) or {}).get("dates", [])
    }
    if carried:
        return [date.fromisoformat(day) for day in sorted(carried)]
    if events and tenant is not None:
        raise AirflowSkipException(f"no date published for tenant {tenant} in this run")
    logical = context.get("logical_date")
    if logical is not None:
        return [logical.date()]
    raise PipelineError(
        'This run has no date: trigger it with conf {"date": "YYYY-MM-DD"}, from an '
        "upstream layer's asset, or on its schedule."
    )


def run_engine(context: Any) -> str | None:
    """The engine this run's conf chose (``"engine"``), or the one its upstream run chose
    and published with its dates; None: the deployment's (MEDALLION_ENGINE)."""
    chosen = _conf(context).get("engine")
    if chosen:
        return str(chosen)
    events = context.get("triggering_asset_events") or {}
    carried = {
        (getattr(event, "extra", None) or {}).get("engine")
        for asset_events in events.values()
        for event in asset_events
    } - {None}
    return carried.pop() if len(carried) == 1 else None


def _load(context: Any, operator: Any) -> list[dict[str, Any]]:
    from src.orchestration.tasks import run_transform

    days = run_dates(context, operator.tenant)
    conf = _conf(context)
    return run_transform(
        operator.database, operator.layer, operator.transform, days, run_engine(context),
        tenant=operator.tenant, reload=bool(conf.get("reload")),
        accept_partial=bool(conf.get("accept_partial")),
    )  # fmt: skip


class TransformOperator(BaseOperator):
    """Run one transform (``src/<database>/transforms/<layer>/<name>.py``) for the run's
    date(s), in the task's process: Spark through MEDALLION_SPARK_REMOTE's Connect server
    when set, else in the process (local unless ``MEDALLION_SPARK_MASTER`` says
    otherwise)."""

    ui_color = "#d9ead3"

    def __init__(
        self, *, database: str, layer: str, transform: str, tenant: str | None = None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.database, self.layer, self.transform = database, layer, transform
        self.tenant = tenant

    def execute(self, context: Any) -> list[dict[str, Any]]:
        return _load(context, self)


class SourceLoadOperator(BaseSensorOperator):
    """A bronze load that waits for its source first, in the same task.

    Until the source is ready for the run's date(s) (the day is over, the rows or every
    expected file are there: :func:`~src.orchestration.tasks.wait_for_source`) the task
    reschedules itself between checks (``up_for_reschedule``): a late source parks the
    run without holding a worker slot. Once it is ready, the task loads as
    :class:`TransformOperator` does. Past ``timeout`` it fails, saying what it was still
    waiting for, and has loaded nothing. One task rather than a sensor and a load: a
    day's tasks start a process each, and on a small machine those are what a day
    through the scheduler spends beyond the loads themselves."""

    ui_color = "#d9ead3"

    def __init__(
        self, *, database: str, layer: str, transform: str, tenant: str | None = None, **kw: Any
    ) -> None:
        kw.setdefault("mode", "reschedule")
        super().__init__(**kw)
        self.database, self.layer, self.transform = database, layer, transform
        self.tenant = tenant
        self.waiting_for: str | None = None

    def poke(self, context: Any) -> bool:
        from src.orchestration.tasks import wait_for_source

        days = run_dates(context, self.tenant)
        self.waiting_for = wait_for_source(
            self.database, self.layer, self.transform, days, self.tenant,
            accept_partial=bool(_conf(context).get("accept_partial")),
        )  # fmt: skip
        if self.waiting_for is not None:
            log.info("not ready: %s", self.waiting_for)
        return self.waiting_for is None

    def execute(self, context: Any) -> list[dict[str, Any]]:
        try:
            super().execute(context)  # returns once the source is ready
        except AirflowSensorTimeout as exc:
            raise AirflowSensorTimeout(
                f"{exc} Still waiting: {self.waiting_for}. Land the source, then clear this "
                "task to wait again (or rerun the date with accept_partial in its conf)."
            ) from None
        return _load(context, self)


class QualityOperator(BaseOperator):
    """Run data-quality rules in PostgreSQL for the run's date(s); fail on ``fail`` rules."""

    ui_color = "#fce5cd"

    def __init__(
        self, *, database: str, rules: Sequence[Any], tenant: str | None = None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.database, self.rules, self.tenant = database, tuple(rules), tenant

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from src.orchestration.tasks import run_quality

        days = run_dates(context, self.tenant)
        return run_quality(self.database, self.task_id, self.rules, days)


class PublishLayerOperator(BaseOperator):
    """The layer's last task: emits its asset event with the dates it completed, which
    schedules the next layer's DAG for the same dates."""

    ui_color = "#cfe2f3"

    def __init__(self, *, asset: Asset, tenant: str | None = None, **kwargs: Any) -> None:
        super().__init__(outlets=[asset], **kwargs)
        self.asset, self.tenant = asset, tenant

    def execute(self, context: Any) -> list[str]:
        dates = [day.isoformat() for day in run_dates(context, self.tenant)]
        extra: dict[str, Any] = {"dates": dates}
        if self.tenant is not None:
            extra["tenant"] = self.tenant
        if engine := run_engine(context):  # the next layers run on the engine this run chose
            extra["engine"] = engine
        context["outlet_events"][self.asset].extra = extra
        log.info("published %s for %s", self.asset.uri, ", ".join(dates))
        return dates


class CollectPricesOperator(BaseOperator):
    """Price the minute of a scheduled run (its data interval's end) for the symbols in
    MEDALLION_COLLECT_SYMBOLS, into ``bronze.br_price`` of ``database``. A run that
    starts more than ``grace`` seconds late stores the minute as a gap: the exchange's
    price then is not that minute's."""

    ui_color = "#fce5cd"

    def __init__(self, *, database: str, grace: float = 60.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database, self.grace = database, grace

    def execute(self, context: Any) -> None:
        import asyncio
        from datetime import UTC, datetime

        from src.config import load_settings, resolve_connection
        from src.marketdata.collector import collect_once, parse_symbols
        from src.marketdata.providers.binance import Binance

        settings = load_settings()
        symbols = parse_symbols(settings.collect_symbols or "", "MEDALLION_COLLECT_SYMBOLS")
        minute = context["data_interval_end"]
        late_by = (datetime.now(UTC) - minute).total_seconds()
        conn = resolve_connection(settings, database=self.database)
        provider = Binance(base_url=settings.binance_base_url)
        done = asyncio.run(
            collect_once(conn, provider, symbols, minute, late_by=late_by, grace=self.grace)
        )
        log.info("%s: %d prices, %d gaps, %d rows stored", minute.strftime("%Y-%m-%d %H:%M"),
                 done.prices, done.gaps, done.stored)  # fmt: skip

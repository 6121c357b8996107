"""Prometheus metrics at ``/metrics``: the API's own, and the warehouse's from its load log.

API: requests by route template, method and status, and a latency histogram by route.
Warehouse (read from the load log when scraped, so never stale): each transform's last
successful load (time, logical date, rows written and rejected), its freshness, and the
last day's rejects by rule. Each app keeps its own registry, so two apps in one process
(tests) do not share counters.

With several worker processes (``serve.py --workers``), each writes its API counters to
files in a shared folder (prometheus-client's multiprocess mode, ``multiprocess_dir``)
and a scrape, whichever worker answers it, sums them; the warehouse figures come from
the database, so any worker's are the same.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.serving.status import WarehouseStatus

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
PER_TRANSFORM = ("database", "layer", "transform")


class Metrics:
    """The API's counters, and the warehouse's gauges as of the last :meth:`warehouse`.

    ``multiprocess_dir``: the folder prometheus-client's multiprocess mode writes to
    (``PROMETHEUS_MULTIPROC_DIR``, which must be set before the worker imports it)."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        labels = ("route", "method", "status")
        self.requests = Counter(
            "medallion_api_requests", "HTTP requests served", labels, registry=self.registry
        )
        self.errors = Counter(
            "medallion_api_errors",
            "HTTP requests answered with a 4xx or 5xx status",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "medallion_api_request_seconds",
            "Time to answer a request",
            ("route", "method"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.loads = WarehouseCollector()
        if multiprocess_dir is None:
            self.exposed = self.registry
        else:  # every worker's counters, from their files
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed, path=str(multiprocess_dir))
        self.exposed.register(self.loads)

    def warehouse(self, status: WarehouseStatus) -> None:
        """Show ``status`` in the warehouse gauges (transforms never loaded have none)."""
        self.loads.status = status

    def exposition(self) -> bytes:
        """The text a scrape gets."""
        return generate_latest(self.exposed)


class WarehouseCollector(Collector):
    """The warehouse gauges, made from the last status read at each scrape."""

    def __init__(self) -> None:
        self.status: WarehouseStatus | None = None

    def collect(self) -> Iterator[Metric]:
        def family(name: str, doc: str, extra: tuple[str, ...] = ()) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=(*PER_TRANSFORM, *extra))

        last_success = family(
            "medallion_load_last_success_timestamp_seconds",
            "When the transform's last successful load finished (Unix time)",
        )
        last_date = family(
            "medallion_load_last_logical_date_timestamp_seconds",
            "The logical date of the transform's last successful load (midnight UTC, Unix time)",
        )
        rows_written = family(
            "medallion_load_rows_written", "Rows the transform's last successful load wrote"
        )
        rows_rejected = family(
            "medallion_load_rows_rejected", "Rows the transform's last successful load rejected"
        )
        freshness = family(
            "medallion_load_freshness_seconds",
            "Seconds since the transform's last successful load finished",
        )
        rejects = family(
            "medallion_rejects",
            "Rows quarantined on the transform's last loaded day, by rule",
            ("rule",),
        )
        status = self.status
        for t in status.transforms if status is not None else ():
            if t.last_date is None:
                continue
            labels = [status.database, t.layer, t.name]
            midnight = datetime.combine(t.last_date, clock.min, tzinfo=UTC)
            last_date.add_metric(labels, midnight.timestamp())
            rows_written.add_metric(labels, t.rows_written or 0)
            rows_rejected.add_metric(labels, t.rows_rejected or 0)
            if t.finished_at is not None:
                last_success.add_metric(labels, t.finished_at.timestamp())
            if t.freshness_seconds is not None:
                freshness.add_metric(labels, t.freshness_seconds)
            for rule, count in t.rejects.items():
                rejects.add_metric([*labels, rule], count)
        yield from (last_success, last_date, rows_written, rows_rejected, freshness, rejects)


class MetricsMiddleware:
    """Count and time each request under its route's template (``/silver/trade/{trade_id}``),
    not its URL: one series per route, whatever keys are asked for. Plain ASGI (a
    ``BaseHTTPMiddleware`` cost a millisecond a request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = getattr(scope.get("route"), "path", None) or "unmatched"
            method, metrics = scope["method"], self.metrics
            metrics.latency.labels(template, method).observe(time.perf_counter() - started)
            metrics.requests.labels(template, method, str(status)).inc()
            if status >= 400:
                metrics.errors.labels(template, method, str(status)).inc()

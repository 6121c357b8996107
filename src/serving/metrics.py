"""Prometheus metrics at ``/metrics``: the API's own, and the warehouse's from its load log.

API: requests by route template, method and status, and a latency histogram by route.
Warehouse (read from the load log when scraped, so never stale): each transform's last
successful load (time, logical date, rows written and rejected), its freshness, and the
last day's rejects by rule. Each app keeps its own registry, so two apps in one process
(tests) do not share counters.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from datetime import time as clock

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.serving.status import WarehouseStatus

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    def __init__(self) -> None:
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
        per_transform = ("database", "layer", "transform")
        self.last_success = Gauge(
            "medallion_load_last_success_timestamp_seconds",
            "When the transform's last successful load finished (Unix time)",
            per_transform,
            registry=self.registry,
        )
        self.last_date = Gauge(
            "medallion_load_last_logical_date_timestamp_seconds",
            "The logical date of the transform's last successful load (midnight UTC, Unix time)",
            per_transform,
            registry=self.registry,
        )
        self.rows_written = Gauge(
            "medallion_load_rows_written",
            "Rows the transform's last successful load wrote",
            per_transform,
            registry=self.registry,
        )
        self.rows_rejected = Gauge(
            "medallion_load_rows_rejected",
            "Rows the transform's last successful load rejected",
            per_transform,
            registry=self.registry,
        )
        self.freshness = Gauge(
            "medallion_load_freshness_seconds",
            "Seconds since the transform's last successful load finished",
            per_transform,
            registry=self.registry,
        )
        self.rejects = Gauge(
            "medallion_rejects",
            "Rows quarantined on the transform's last loaded day, by rule",
            (*per_transform, "rule"),
            registry=self.registry,
        )

    def warehouse(self, status: WarehouseStatus) -> None:
        """Set the warehouse gauges from ``status`` (transforms never loaded have none)."""
        gauges = (self.last_success, self.last_date, self.rows_written, self.rows_rejected,
                  self.freshness, self.rejects)  # fmt: skip
        for gauge in gauges:
            gauge.clear()
        for t in status.transforms:
            if t.last_date is None:
                continue
            labels = (status.database, t.layer, t.name)
            midnight = datetime.combine(t.last_date, clock.min, tzinfo=UTC)
            self.last_date.labels(*labels).set(midnight.timestamp())
            self.rows_written.labels(*labels).set(t.rows_written or 0)
            self.rows_rejected.labels(*labels).set(t.rows_rejected or 0)
            if t.finished_at is not None:
                self.last_success.labels(*labels).set(t.finished_at.timestamp())
            if t.freshness_seconds is not None:
                self.freshness.labels(*labels).set(t.freshness_seconds)
            for rule, count in t.rejects.items():
                self.rejects.labels(*labels, rule).set(count)


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

"""Prometheus metrics of market-data commands, labelled by provider and symbol.

Requests (by outcome: ok, transient, terminal), their latency, and what was stored:
prices and gaps (the collector); bars landed and rejected, and the backlog of symbol-days
left (ingestion). A
command serves them while it runs with ``--metrics-port``. Each :class:`MarketMetrics`
has its own registry, so tests and two commands in one process do not share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class MarketMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        per_symbol = ("provider", "symbol")
        self.requests = Counter(
            "medallion_marketdata_requests",
            "Requests to a market-data provider, by outcome (ok, transient, terminal)",
            (*per_symbol, "outcome"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "medallion_marketdata_request_seconds",
            "Time a provider took to answer",
            ("provider",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "medallion_marketdata_errors",
            "Failed requests by kind (http_<status>, timeout, connection, malformed)",
            (*per_symbol, "kind"),
            registry=self.registry,
        )
        self.landed = Counter(
            "medallion_marketdata_bars_landed", "Bars written to the landing zone", per_symbol,
            registry=self.registry,
        )  # fmt: skip
        self.rejected = Counter(
            "medallion_marketdata_bars_rejected", "Bars quarantined by validation, by rule",
            (*per_symbol, "rule"), registry=self.registry,
        )  # fmt: skip
        self.backlog = Gauge(
            "medallion_marketdata_backlog", "Symbol-days an ingest has still to land",
            per_symbol, registry=self.registry,
        )  # fmt: skip
        self.prices = Counter(
            "medallion_marketdata_prices", "Prices stored by the collector", per_symbol,
            registry=self.registry,
        )  # fmt: skip
        self.gaps = Counter(
            "medallion_marketdata_gaps", "Minutes stored as gaps by the collector", per_symbol,
            registry=self.registry,
        )  # fmt: skip

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``host:port`` from a background thread while the
        command runs."""
        start_http_server(port, addr=host, registry=self.registry)

"""Page through a query with any provider, waiting and retrying as vendors ask.

    with httpx.Client(base_url=provider.base_url, timeout=10) as client:
        for page in fetch_pages(client, provider, query):
            ...
    async with httpx.AsyncClient(base_url=provider.base_url, timeout=10) as client:
        async for page in afetch_pages(client, provider, query):
            ...

Transient failures (429, 5xx, timeouts, reset connections, a malformed body) are
retried with exponential backoff and jitter, or after ``Retry-After`` when the vendor
gives one, up to ``attempts`` tries; then the last error is raised. A :class:`Terminal`
failure (bad symbol or parameter, bad credentials, a ban) is raised at once and never
retried. Between pages, the provider's rate-limit headers may ask for a pause.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from src.marketdata.metrics import MarketMetrics
from src.marketdata.providers.base import FetchError, Page, Provider, Query, Transient
from src.marketdata.providers.binance import Binance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base: float = 0.5  # seconds before the second try, doubling after
    cap: float = 30.0  # longest backoff (a vendor's Retry-After may be longer)

    def wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Transient) and error.retry_after is not None:
            return error.retry_after
        backoff = min(self.cap, self.base * 2 ** (state.attempt_number - 1))
        return backoff * (0.5 + random.random() / 2)

    def options(self, sleep: Callable) -> dict:
        """tenacity's ``Retrying`` / ``AsyncRetrying`` keywords: transient failures only."""
        return {
            "retry": retry_if_exception_type(Transient),
            "stop": stop_after_attempt(self.attempts),
            "wait": self.wait,
            "sleep": sleep,
            "reraise": True,
            "before_sleep": _log_retry,
        }


def _transport_error(
    provider: Provider, symbols: Sequence[str], exc: httpx.TransportError
) -> Transient:
    timeout = isinstance(exc, httpx.TimeoutException)
    what = "timed out" if timeout else "connection failed"
    return Transient(f"{provider.name} {','.join(symbols)}: {what} ({exc!r})",
                     kind="timeout" if timeout else "connection")  # fmt: skip


def _check(provider: Provider, symbols: Sequence[str], response: httpx.Response) -> None:
    """Raise the provider's judgement of a failed response, naming the symbols."""
    failure = provider.failure(response)
    if failure is not None:
        raise type(failure)(
            f"{provider.name} {','.join(symbols)}: {failure}",
            status=failure.status,
            retry_after=failure.retry_after,
            symbol=symbols[0] if len(symbols) == 1 else None,
            kind=failure.kind,
        )


@contextmanager
def _counted(metrics: MarketMetrics | None, provider: Provider, symbol: str) -> Iterator[None]:
    """Count one request by outcome and time it (when metrics are kept)."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except FetchError as exc:
        outcome = "transient" if isinstance(exc, Transient) else "terminal"
        if metrics is not None:
            metrics.errors.labels(provider.name, symbol, exc.kind).inc()
        raise
    finally:
        if metrics is not None:
            metrics.requests.labels(provider.name, symbol, outcome).inc()
            metrics.latency.labels(provider.name).observe(time.perf_counter() - started)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0
    log.warning("%s; try %d again in %.1f s", error, state.attempt_number + 1, wait)


@dataclass
class Gate:
    """One provider's pause, shared by all the workers of an ingest: when a response
    says the rate limit is reached (its headers, or a 429's ``Retry-After``), every
    worker's next request waits, not only the one that was told."""

    resume_at: float = 0.0
    clock: Callable[[], float] = time.monotonic

    def hold(self, seconds: float | None) -> None:
        if seconds:
            self.resume_at = max(self.resume_at, self.clock() + seconds)

    async def wait(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        delay = self.resume_at - self.clock()
        if delay > 0:
            await sleep(delay)


@dataclass
class _Paging:
    """Where a query's paging stands: the next request, and what to do after a page."""

    provider: Provider
    query: Query
    cursor: str | None = None

    def request(self) -> dict:
        provider = self.provider
        return {
            "url": provider.path,
            "params": provider.params(self.query, self.cursor),
            "headers": provider.headers,
        }

    def failed(self, exc: httpx.TransportError) -> Transient:
        return _transport_error(self.provider, self.query.symbols, exc)

    def page(self, response: httpx.Response) -> Page:
        _check(self.provider, self.query.symbols, response)
        return self.provider.parse(response, self.query)

    def advance(self, page: Page, response: httpx.Response) -> float | None:
        """None when the range is done; else the pause before the next page."""
        if page.cursor is None:
            return None
        self.cursor = page.cursor
        pause = self.provider.wait_after(response)
        if pause > 0:
            log.info("%s: rate limit reached; waiting %.1f s", self.provider.name, pause)
        return pause


def fetch_pages(
    client: httpx.Client,
    provider: Provider,
    query: Query,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Page]:
    """Every page of ``query``, in order (synchronous)."""
    paging = _Paging(provider, query)
    while True:
        for attempt in Retrying(**policy.options(sleep)):
            with attempt:
                try:
                    response = client.get(**paging.request())
                except httpx.TransportError as exc:
                    raise paging.failed(exc) from None
                page = paging.page(response)
        yield page
        pause = paging.advance(page, response)
        if pause is None:
            return
        if pause > 0:
            sleep(pause)


async def afetch_pages(
    client: httpx.AsyncClient,
    provider: Provider,
    query: Query,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    gate: Gate | None = None,
    metrics: MarketMetrics | None = None,
) -> AsyncIterator[Page]:
    """Every page of ``query``, in order (asynchronous). Workers sharing a ``gate`` pause
    together when the vendor says its limit is reached."""
    paging, gate = _Paging(provider, query), gate or Gate()
    while True:
        async for attempt in AsyncRetrying(**policy.options(sleep)):
            with attempt:
                await gate.wait(sleep)
                with _counted(metrics, provider, query.symbols[0]):
                    try:
                        response = await client.get(**paging.request())
                    except httpx.TransportError as exc:
                        raise paging.failed(exc) from None
                    try:
                        page = paging.page(response)
                    except Transient as exc:
                        gate.hold(exc.retry_after)
                        raise
        yield page
        pause = paging.advance(page, response)
        if pause is None:
            return
        gate.hold(pause)


async def afetch_price(
    client: httpx.AsyncClient,
    provider: Binance,
    symbol: str,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    metrics: MarketMetrics | None = None,
) -> tuple[Decimal, datetime | None]:
    """One symbol's latest price and the exchange's clock when it answered (its HTTP
    ``Date``), retried like a page."""
    path, params = provider.price_params(symbol)
    async for attempt in AsyncRetrying(**policy.options(sleep)):
        with attempt, _counted(metrics, provider, symbol):
            try:
                response = await client.get(path, params=params, headers=provider.headers)
            except httpx.TransportError as exc:
                raise _transport_error(provider, (symbol,), exc) from None
            _check(provider, (symbol,), response)
            answered, price = provider.parse_price(response)
            if answered != symbol:
                raise Transient(f"{provider.name}: asked the price of {symbol}, got {answered}")
    date = response.headers.get("Date")
    return price, parsedate_to_datetime(date).astimezone(UTC) if date else None

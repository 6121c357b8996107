"""What a provider is: how to ask for a page of bars, read it, and judge a failure.

A provider knows its wire format only; paging, waiting and retrying are
:mod:`src.marketdata.fetch`'s, for every provider alike:

- ``path`` and ``params(query, cursor)``: the request for one page;
- ``parse(response, query)``: the bars in it (a frame), and the next page's cursor
  (None: done);
- ``failure(response)``: None for a good response, else a :class:`Transient` (retried,
  after ``Retry-After`` if the vendor gave one) or a :class:`Terminal` (the symbol stops);
- ``wait_after(response)``: how long the vendor's rate-limit headers ask the next request
  to wait (0: go on).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pyarrow as pa

from src.marketdata.bars import Bar, Timeframe, bars_of
from src.utils.errors import MedallionError


@dataclass(frozen=True)
class Query:
    """Bars of ``symbols`` over ``[start, end)`` at ``timeframe``."""

    symbols: tuple[str, ...]
    start: datetime
    end: datetime
    timeframe: Timeframe = Timeframe.M1


@dataclass
class Page:
    frame: pa.Table  # the page's bars (src.marketdata.bars.FRAME_SCHEMA)
    cursor: str | None  # the next page's, None when the range is done
    raw_rows: int = 0  # rows the vendor sent (bars outside the range are dropped)

    @property
    def bars(self) -> list[Bar]:
        return bars_of(self.frame)


class FetchError(MedallionError):
    """A request that failed; ``retry_after`` in seconds when the vendor said."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        symbol: str | None = None,
        kind: str | None = None,
    ):
        super().__init__(message)
        self.status, self.retry_after, self.symbol = status, retry_after, symbol
        # what went wrong, for metrics: http_<status>, timeout, connection, malformed
        self.kind = kind or (f"http_{status}" if status else "other")


class Transient(FetchError):
    """Worth retrying: rate limited, a server error, a timeout, a reset connection."""


class Terminal(FetchError):
    """Retrying cannot help: a bad symbol or parameter, bad credentials, a ban."""


@dataclass
class Provider(ABC):
    base_url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # may hold keys
    name: str = ""
    path: str = ""
    page_limit: int = 1000

    @abstractmethod
    def params(self, query: Query, cursor: str | None) -> dict[str, str]: ...

    @abstractmethod
    def parse(self, response: httpx.Response, query: Query) -> Page: ...

    def failure(self, response: httpx.Response) -> FetchError | None:
        """Every vendor alike: 429 and 5xx are transient (429 waits as long as
        :meth:`rate_limited_wait` says, a 5xx as ``Retry-After`` says), any other error
        is terminal, with the vendor's :meth:`terminal_hint`."""
        status = response.status_code
        if status < 400:
            return None
        message = f"HTTP {status}: {body_message(response)}"
        if status == 429:
            return Transient(message, status=status, retry_after=self.rate_limited_wait(response))
        if status >= 500:
            return Transient(message, status=status, retry_after=retry_after(response))
        wait = retry_after(response)
        return Terminal(message + self.terminal_hint(status, wait), status=status, retry_after=wait)

    def rate_limited_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait after a 429 (None: back off)."""
        return retry_after(response)

    def terminal_hint(self, status: int, retry_after: float | None) -> str:
        """What to do about a terminal status, appended to the vendor's message."""
        return ""

    def wait_after(self, response: httpx.Response) -> float:
        return 0.0

    def transport(self) -> httpx.AsyncBaseTransport | None:
        """A transport answering in-process (a simulated provider); None: the network."""
        return None


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the delta form; dates are rare for these vendors)."""
    value = response.headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def body_message(response: httpx.Response) -> str:
    """The vendor's error text (``msg``/``message`` of a JSON body, else the text)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict):
        text = body.get("msg") or body.get("message") or body
        code = body.get("code")
        return f"{text} (code {code})" if code is not None else str(text)
    return str(body)[:200]

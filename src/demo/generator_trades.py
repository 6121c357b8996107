"""The demo's trade events for one day: lifecycles, late amendments, bad records.

A day's new trades are drawn from ``numpy.random.default_rng([seed, ordinal, stream])``
(streams 11-13), so any day can be regenerated alone, e.g. to amend yesterday's trades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from src.demo.generator_bars import (
    HOUR_US,
    MINUTE_US,
    SESSION_MINUTES,
    SESSION_OPEN_US,
    UNIX_EPOCH_ORDINAL,
    UTC_US,
    anomaly_count,
    day_prices,
    day_start_us,
    listed_indices,
    rng_for,
    universe,
)

if TYPE_CHECKING:  # pragma: no cover
    from src.demo.generator import SourceSpec

ACTIONS = ("BUY", "SELL", "SHORT", "COVER")
STATUSES = ("NEW", "PARTIALLY_FILLED", "FILLED", "AMENDED", "CANCELLED", "SETTLED")
NEW, PARTIAL, FILLED, AMENDED, CANCELLED = range(5)
# Lifecycles (status per event, -1 = none) and their shares: see the module docstring.
LIFECYCLES = np.array(
    [
        [NEW, FILLED, -1],
        [NEW, PARTIAL, FILLED],
        [NEW, PARTIAL, -1],
        [NEW, CANCELLED, -1],
        [NEW, FILLED, AMENDED],
    ]
)
LIFECYCLE_SHARES = (0.60, 0.15, 0.10, 0.08, 0.07)
LATE_SEQ = 11  # late events continue a trade's numbering far from its 1-3
EVENT_SUFFIXES = ("", "-X1", "-X2", "-X3")  # clean, null_required, unknown, negative
UNKNOWN_CODES = tuple(f"ZZZ{n:03d}" for n in range(1000))
EVENT_ANOMALIES = ("null_required", "unknown_instrument", "negative_quantity", "duplicate")
S_TRADES, S_BAD_EVENTS, S_LATE = 11, 12, 13  # rng stream ids
PER_EVENT = ("status", "quantity", "filled", "price", "time")  # the (trades, 3) arrays of _Book
Frame = dict[str, np.ndarray]  # equally long columns of trade events


@dataclass(frozen=True)
class _Book:
    """A day's new trades (one row each) and their 1-3 lifecycle events (columns)."""

    portfolio: np.ndarray
    instrument: np.ndarray
    action: np.ndarray
    status: np.ndarray  # (trades, 3), -1 where a trade has fewer events
    quantity: np.ndarray
    filled: np.ndarray
    price: np.ndarray
    time: np.ndarray  # microseconds since 1970-01-01 UTC


def _book(spec: SourceSpec, day: date) -> _Book:
    """The trades opened on ``day``, each event carrying the trade's full state after it."""
    rng, n = rng_for(spec.seed, day.toordinal(), S_TRADES), spec.trades
    listed = listed_indices(spec, day)
    instrument = listed[rng.integers(0, len(listed), n)]
    portfolio = rng.integers(0, spec.portfolios, n)
    action = rng.choice(len(ACTIONS), n, p=[0.4, 0.4, 0.1, 0.1])
    kind = rng.choice(len(LIFECYCLES), n, p=LIFECYCLE_SHARES)
    price = day_prices(spec.seed, spec.instruments, day)[instrument]
    limit = (price * (1 + rng.uniform(-0.015, 0.015, n))).round(4)
    states = _states(rng, kind, limit)
    return _Book(portfolio, instrument, action, time=_session_times(rng, day, n), **states)


def _states(rng: np.random.Generator, kind: np.ndarray, limit: np.ndarray) -> Frame:
    """Status, quantity, filled quantity and price after each of a trade's 1-3 events."""
    n = len(kind)
    quantity = np.clip(np.rint(rng.lognormal(4.0, 1.2, n)), 1, 1000)
    quantity = np.where((kind == 1) | (kind == 2), np.maximum(quantity, 2), quantity)
    fills = (limit[:, None] * (1 + rng.uniform(-0.001, 0.001, (n, 2)))).round(4)
    part = np.clip(np.floor(quantity * rng.uniform(0.1, 0.9, n)), 1, quantity - 1)
    average = ((part * fills[:, 0] + (quantity - part) * fills[:, 1]) / quantity).round(4)
    amended_q, amended_p = (values[:, None] for values in _amendments(rng, quantity, fills[:, 0]))
    fill, filled_price = fills[:, :1], np.where(kind == 1, average, fills[:, 0])[:, None]
    quantity, part, limit = quantity[:, None], part[:, None], limit[:, None]
    status = LIFECYCLES[kind]
    on = [status == PARTIAL, status == FILLED, status == AMENDED]
    return {
        "status": status,
        "quantity": np.where(on[2], amended_q, quantity),
        "filled": np.select(on, [part, quantity, amended_q], 0.0),
        "price": np.select(on, [fill, filled_price, amended_p], limit),
    }


def _amendments(
    rng: np.random.Generator, quantity: np.ndarray, fill: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The quantity and price an amendment sets: one of them, or both, differ from the fill."""
    n = len(quantity)
    mode = rng.integers(0, 3, n)  # corrects 0: the quantity, 1: the price, 2: both
    shift = rng.uniform(0.001, 0.003, n) * rng.choice([-1.0, 1.0], n)
    amended_q = np.where(mode != 1, _corrected(rng, quantity), quantity)
    return amended_q, np.where(mode != 0, (fill * (1 + shift)).round(4), fill)


def _corrected(rng: np.random.Generator, quantity: np.ndarray) -> np.ndarray:
    """A different quantity within 1..1000, about +-30% off."""
    new = np.clip(np.rint(quantity * rng.uniform(0.7, 1.3, len(quantity))), 1, 1000)
    return np.where(new == quantity, np.where(quantity < 1000, quantity + 1, quantity - 1), new)


def _session_times(rng: np.random.Generator, day: date, n: int) -> np.ndarray:
    """Three strictly increasing event times per trade within 14:30-21:00 UTC."""
    span = SESSION_MINUTES * MINUTE_US - 3
    offsets = np.floor(np.sort(rng.random((n, 3)), axis=1) * span).astype(np.int64)
    return day_start_us(day) + SESSION_OPEN_US + offsets + np.arange(3)


def _events(book: _Book, day: date, rows: np.ndarray | None = None) -> Frame:
    """The book's events in trade, then sequence order (``rows``: flat (trade, slot) cells)."""
    cells = np.flatnonzero(book.status.ravel() >= 0) if rows is None else rows
    trade = cells // 3
    return {
        "trade_day": np.full(len(cells), day.toordinal()),
        "trade_no": trade + 1,
        "seq": cells % 3 + 1,
        "suffix": np.zeros(len(cells), dtype=np.int64),
        "portfolio": book.portfolio[trade],
        "instrument": book.instrument[trade],
        "action": book.action[trade],
        **{name: getattr(book, name).ravel()[cells] for name in PER_EVENT},
    }


def _late_events(spec: SourceSpec, day: date) -> Frame:
    """AMENDED events of some of yesterday's FILLED trades, stamped yesterday 21:00-23:59."""
    yesterday = day - timedelta(days=1)
    book = _book(spec, yesterday)
    last = np.where(book.status[:, 2] >= 0, 2, 1)
    filled = np.flatnonzero(book.status[np.arange(len(last)), last] == FILLED)
    rng = rng_for(spec.seed, day.toordinal(), S_LATE)
    count = anomaly_count(spec.late_rate, len(filled), spec.trades >= 100)
    trades = np.sort(rng.choice(filled, count, replace=False))
    late = _events(book, yesterday, trades * 3 + last[trades])
    late["seq"][:] = LATE_SEQ
    late["status"][:] = AMENDED
    late["quantity"] = late["filled"] = _corrected(rng, book.quantity[trades, 0])
    start = day_start_us(yesterday) + 21 * HOUR_US
    late["time"] = start + rng.integers(0, 179 * MINUTE_US, count)
    return late


def _bad_events(spec: SourceSpec, day: date, clean: Frame) -> tuple[list[Frame], dict[str, int]]:
    """Copies of clean events with one defect each (new event ids), and exact duplicates."""
    rng, n = rng_for(spec.seed, day.toordinal(), S_BAD_EVENTS), len(clean["seq"])
    count = anomaly_count(spec.bad_rate, n, spec.trades >= 100)
    bad = [_take(clean, rng.choice(n, count, replace=False)) for _ in range(3)]
    for suffix, frame in enumerate(bad, 1):
        frame["suffix"][:] = suffix
    null, unknown, negative = bad
    column = rng.integers(0, 3, count)
    null["portfolio"][column == 0] = -1
    null["price"][column == 1] = np.nan
    null["action"][column == 2] = -1
    unknown["instrument"] = spec.instruments + rng.integers(0, len(UNKNOWN_CODES), count)
    negative["quantity"] = -negative["quantity"]
    repeats = anomaly_count(spec.duplicate_rate, n, spec.trades >= 100)
    duplicate = _take(clean, rng.choice(n, repeats, replace=False))
    counts = [count, count, count, repeats]
    return [*bad, duplicate], dict(zip(EVENT_ANOMALIES, counts, strict=True))


def day_events(spec: SourceSpec, day: date) -> tuple[Frame, dict[str, int]]:
    """All event rows recorded on ``day`` in event-time order, and the anomalies among them."""
    clean = _events(_book(spec, day), day)
    extra, anomalies = _bad_events(spec, day, clean)
    late = _late_events(spec, day)
    rows = {name: np.concatenate([f[name] for f in (clean, *extra, late)]) for name in clean}
    order = np.lexsort((rows["suffix"], rows["seq"], rows["trade_no"], rows["time"]))
    return _take(rows, order), {**anomalies, "late_event": len(late["seq"])}


def _take(frame: Frame, rows: np.ndarray) -> Frame:
    return {name: values[rows] for name, values in frame.items()}


def events_table(events: Frame, spec: SourceSpec, day: date) -> pa.Table:
    """The rows of ``ops.trade_event`` (without row_id), ready for COPY."""
    days = np.unique(events["trade_day"])
    prefixes = pa.array([f"T{date.fromordinal(int(d)):%Y%m%d}-" for d in days])
    numbers = pc.utf8_lpad(pc.cast(pa.array(events["trade_no"]), pa.string()), 7, "0")
    trade_id = pc.binary_join_element_wise(
        prefixes.take(pa.array(np.searchsorted(days, events["trade_day"]))), numbers, ""
    )
    seq = pc.utf8_lpad(pc.cast(pa.array(events["seq"]), pa.string()), 2, "0")
    suffix = pa.array(EVENT_SUFFIXES).take(pa.array(events["suffix"]))
    instruments = [*universe(spec.seed, spec.instruments).codes, *UNKNOWN_CODES]
    portfolios = [f"PF{i:04d}" for i in range(1, spec.portfolios + 1)]
    recorded = day.toordinal() - UNIX_EPOCH_ORDINAL
    return pa.table(
        {
            "event_id": pc.binary_join_element_wise(trade_id, "-", seq, suffix, ""),
            "trade_id": trade_id,
            "portfolio_code": _labels(portfolios, events["portfolio"]),
            "instrument_code": _labels(instruments, events["instrument"]),
            "action": _labels(ACTIONS, events["action"]),
            "status": _labels(STATUSES, events["status"]),
            "quantity": events["quantity"],
            "filled_quantity": events["filled"],
            "price": pa.array(events["price"], mask=np.isnan(events["price"])),
            "event_time": pa.array(events["time"], UTC_US),
            "recorded_date": pa.array(np.full(len(seq), recorded, np.int32), pa.date32()),
        }
    )


def _labels(labels: list[str] | tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """``labels[code]`` per row; null where the code is negative."""
    return pa.array(labels, pa.string()).take(pa.array(codes, mask=codes < 0))

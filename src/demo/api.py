"""The demo's own endpoints, the ones a trading desk calls (served under ``/desk``).

    GET /desk/prices/latest[?symbol=AAPL]                   latest price per symbol
    GET /desk/bars/{symbol}/minute?start=&end=              minute bars (UTC days, at most 7)
    GET /desk/bars/{symbol}/daily?start=&end=               daily bars (at most 5 years)
    GET /desk/portfolios/{portfolio}/positions?date=D[&as_of=T]   positions, market value
    GET /desk/portfolios/{portfolio}/pnl?start=&end=        daily P&L and its total

The latest price comes from the newest cleansed minute bar (``source: minute_bar``).
Amounts are exact decimals (strings in JSON). Gold figures are the latest restated ones;
``as_of`` reads them as they were reported at that time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

import asyncpg
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import AwareDatetime, BaseModel

from src.serving.db import read_rows
from src.serving.routes import Reader, json_response

ROUTER = APIRouter(prefix="/desk", tags=["desk"])
MAX_MINUTE_DAYS = 7
MAX_DAILY_DAYS = 5 * 366


class Price(BaseModel):
    symbol: str
    price: Decimal
    time: datetime
    source: str


class MinuteBar(BaseModel):
    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float | None


class DailyBar(BaseModel):
    date: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: float
    vwap: Decimal | None


class Position(BaseModel):
    instrument_code: str
    currency_code: str
    quantity: Decimal
    close_price: Decimal | None
    market_value: Decimal | None


class Positions(BaseModel):
    portfolio: str
    date: date
    positions: list[Position]
    market_value: dict[str, Decimal]  # by currency (no FX conversion)


class DailyPnl(BaseModel):
    date: date
    currency_code: str
    market_value: Decimal
    pnl: Decimal


class Pnl(BaseModel):
    portfolio: str
    start: date
    end: date
    days: list[DailyPnl]
    total: dict[str, Decimal]  # by currency


async def _known(db: asyncpg.Pool, what: str, value: str) -> None:
    """404 for a symbol or portfolio silver never held, with examples of known ones."""
    table, column = {
        "symbol": ("silver.instrument_hist", "instrument_code"),
        "portfolio": ("silver.portfolio_hist", "portfolio_code"),
    }[what]
    if not await read_rows(db, f"SELECT 1 FROM {table} WHERE {column} = $1 LIMIT 1", value):
        some = await read_rows(db, f"SELECT DISTINCT {column} AS c FROM {table} ORDER BY 1 LIMIT 5")
        examples = ", ".join(r["c"] for r in some) or "none loaded yet"
        raise HTTPException(404, f"unknown {what} '{value}'; known ones include {examples}")


def _range(start: date, end: date, most: int, what: str) -> None:
    if end < start:
        raise HTTPException(422, f"end {end} is before start {start}; swap them")
    if (end - start).days + 1 > most:
        raise HTTPException(
            422, f"{(end - start).days + 1} days of {what} asked; at most {most} per request"
        )


async def _symbol_range(
    db: asyncpg.Pool, symbol: str, start: date, end: date, most: int, what: str
) -> None:
    _range(start, end, most, what)
    await _known(db, "symbol", symbol)


LATEST_PRICES = """SELECT DISTINCT ON (instrument_code) instrument_code AS symbol,
    close::numeric AS price, bar_time AS time, 'minute_bar' AS source
FROM silver.minute_bar ORDER BY instrument_code, bar_time DESC"""
# One symbol's (a separate statement: a prepared plan serves one shape well, not two).
LATEST_PRICE = """SELECT instrument_code AS symbol, close::numeric AS price, bar_time AS time,
    'minute_bar' AS source
FROM silver.minute_bar WHERE instrument_code = $1 ORDER BY bar_time DESC LIMIT 1"""

MINUTE_BARS = """SELECT bar_time AS time, open, high, low, close, volume, vwap
FROM silver.minute_bar WHERE instrument_code = $1 AND bar_time >= $2 AND bar_time < $3
ORDER BY bar_time"""


@ROUTER.get("/prices/latest", response_model=list[Price], summary="Latest price per symbol")
async def latest_prices(db: Reader, symbol: str | None = None) -> Response:
    if symbol is None:
        return json_response(await read_rows(db, LATEST_PRICES))
    await _known(db, "symbol", symbol)
    return json_response(await read_rows(db, LATEST_PRICE, symbol))


@ROUTER.get("/bars/{symbol}/minute", response_model=list[MinuteBar], summary="Minute bars")
async def minute_bars(db: Reader, symbol: str, start: date, end: date) -> Response:
    await _symbol_range(db, symbol, start, end, MAX_MINUTE_DAYS, "minute bars")
    bars = await read_rows(
        db,
        MINUTE_BARS,
        symbol,
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )
    return json_response(bars)


@ROUTER.get("/bars/{symbol}/daily", response_model=list[DailyBar], summary="Daily bars")
async def daily_bars(db: Reader, symbol: str, start: date, end: date) -> Response:
    await _symbol_range(db, symbol, start, end, MAX_DAILY_DAYS, "daily bars")
    bars = await read_rows(
        db,
        """SELECT business_date AS date, open, high, low, close, volume, vwap
           FROM gold.daily_bar
           WHERE instrument_code = $1 AND business_date BETWEEN $2 AND $3
           ORDER BY business_date""",
        symbol,
        start,
        end,
    )
    return json_response(bars)


@ROUTER.get(
    "/portfolios/{portfolio}/positions", response_model=Positions, summary="Positions on a date"
)
async def positions(
    db: Reader,
    portfolio: str,
    day: Annotated[date, Query(alias="date")],
    as_of: Annotated[AwareDatetime | None, Query(description="as reported at this time")] = None,
) -> Response:
    await _known(db, "portfolio", portfolio)
    source = "gold.position_eod__as_of($3)" if as_of else "gold.position_eod"
    held = await read_rows(
        db,
        f"""SELECT instrument_code, currency_code, quantity, close_price, market_value
            FROM {source}
            WHERE portfolio_code = $1 AND business_date = $2
            ORDER BY instrument_code""",
        portfolio,
        day,
        *([as_of] if as_of else []),
    )
    totals: dict[str, Decimal] = {}
    for row in held:
        if row["market_value"] is not None:
            currency = row["currency_code"]
            totals[currency] = totals.get(currency, Decimal(0)) + row["market_value"]
    return json_response(
        {"portfolio": portfolio, "date": day, "positions": held, "market_value": totals}
    )


@ROUTER.get("/portfolios/{portfolio}/pnl", response_model=Pnl, summary="Daily P&L over a range")
async def pnl(db: Reader, portfolio: str, start: date, end: date) -> Response:
    _range(start, end, MAX_DAILY_DAYS, "P&L")
    await _known(db, "portfolio", portfolio)
    days = await read_rows(
        db,
        """SELECT business_date AS date, currency_code, market_value, pnl
           FROM gold.portfolio_value_daily
           WHERE portfolio_code = $1 AND business_date BETWEEN $2 AND $3
           ORDER BY business_date, currency_code""",
        portfolio,
        start,
        end,
    )
    total: dict[str, Decimal] = {}
    for row in days:
        total[row["currency_code"]] = total.get(row["currency_code"], Decimal(0)) + row["pnl"]
    return json_response(
        {"portfolio": portfolio, "start": start, "end": end, "days": days, "total": total}
    )

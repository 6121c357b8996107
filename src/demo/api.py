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
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from src.serving.db import fetch_dicts
from src.serving.routes import Session

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
    volume: int
    vwap: float | None


class DailyBar(BaseModel):
    date: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
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


async def _known(db: AsyncSession, what: str, value: str) -> None:
    """404 for a symbol or portfolio silver never held, with examples of known ones."""
    table, column = {
        "symbol": ("silver.instrument_hist", "instrument_code"),
        "portfolio": ("silver.portfolio_hist", "portfolio_code"),
    }[what]
    found = await fetch_dicts(db, f"SELECT 1 FROM {table} WHERE {column} = :v LIMIT 1", v=value)
    if not found:
        some = await fetch_dicts(
            db, f"SELECT DISTINCT {column} AS c FROM {table} ORDER BY 1 LIMIT 5"
        )
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
    db: AsyncSession, symbol: str, start: date, end: date, most: int, what: str
) -> None:
    _range(start, end, most, what)
    await _known(db, "symbol", symbol)


@ROUTER.get("/prices/latest", response_model=list[Price], summary="Latest price per symbol")
async def latest_prices(db: Session, symbol: str | None = None) -> list[dict[str, Any]]:
    if symbol is not None:
        await _known(db, "symbol", symbol)
    return await fetch_dicts(
        db,
        """SELECT DISTINCT ON (instrument_code) instrument_code AS symbol,
                  close::numeric AS price, bar_time AS time, 'minute_bar' AS source
           FROM silver.minute_bar
           WHERE CAST(:symbol AS text) IS NULL OR instrument_code = :symbol
           ORDER BY instrument_code, bar_time DESC""",
        symbol=symbol,
    )


@ROUTER.get("/bars/{symbol}/minute", response_model=list[MinuteBar], summary="Minute bars")
async def minute_bars(db: Session, symbol: str, start: date, end: date) -> list[dict[str, Any]]:
    await _symbol_range(db, symbol, start, end, MAX_MINUTE_DAYS, "minute bars")
    return await fetch_dicts(
        db,
        """SELECT bar_time AS time, open, high, low, close, volume, vwap
           FROM silver.minute_bar
           WHERE instrument_code = :symbol AND bar_time >= :start AND bar_time < :end
           ORDER BY bar_time""",
        symbol=symbol,
        start=datetime.combine(start, time.min, tzinfo=UTC),
        end=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


@ROUTER.get("/bars/{symbol}/daily", response_model=list[DailyBar], summary="Daily bars")
async def daily_bars(db: Session, symbol: str, start: date, end: date) -> list[dict[str, Any]]:
    await _symbol_range(db, symbol, start, end, MAX_DAILY_DAYS, "daily bars")
    return await fetch_dicts(
        db,
        """SELECT business_date AS date, open, high, low, close, volume, vwap
           FROM gold.daily_bar
           WHERE instrument_code = :symbol AND business_date BETWEEN :start AND :end
           ORDER BY business_date""",
        symbol=symbol,
        start=start,
        end=end,
    )


@ROUTER.get(
    "/portfolios/{portfolio}/positions", response_model=Positions, summary="Positions on a date"
)
async def positions(
    db: Session,
    portfolio: str,
    day: Annotated[date, Query(alias="date")],
    as_of: Annotated[AwareDatetime | None, Query(description="as reported at this time")] = None,
) -> dict[str, Any]:
    await _known(db, "portfolio", portfolio)
    source = "gold.position_eod__as_of(:as_of)" if as_of else "gold.position_eod"
    rows = await fetch_dicts(
        db,
        f"""SELECT instrument_code, currency_code, quantity, close_price, market_value
            FROM {source}
            WHERE portfolio_code = :portfolio AND business_date = :day
            ORDER BY instrument_code""",
        portfolio=portfolio,
        day=day,
        **({"as_of": as_of} if as_of else {}),
    )
    totals: dict[str, Decimal] = {}
    for row in rows:
        if row["market_value"] is not None:
            currency = row["currency_code"]
            totals[currency] = totals.get(currency, Decimal(0)) + row["market_value"]
    return {"portfolio": portfolio, "date": day, "positions": rows, "market_value": totals}


@ROUTER.get("/portfolios/{portfolio}/pnl", response_model=Pnl, summary="Daily P&L over a range")
async def pnl(db: Session, portfolio: str, start: date, end: date) -> dict[str, Any]:
    _range(start, end, MAX_DAILY_DAYS, "P&L")
    await _known(db, "portfolio", portfolio)
    days = await fetch_dicts(
        db,
        """SELECT business_date AS date, currency_code, market_value, pnl
           FROM gold.portfolio_value_daily
           WHERE portfolio_code = :portfolio AND business_date BETWEEN :start AND :end
           ORDER BY business_date, currency_code""",
        portfolio=portfolio,
        start=start,
        end=end,
    )
    total: dict[str, Decimal] = {}
    for row in days:
        total[row["currency_code"]] = total.get(row["currency_code"], Decimal(0)) + row["pnl"]
    return {"portfolio": portfolio, "start": start, "end": end, "days": days, "total": total}

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class PortfolioValueDailyHist(TemporalTableBase, table=True):
    """Market value and daily P&L per portfolio and currency (no FX conversion):
    ``pnl = market_value - prev_market_value - net_trade_cash``, where ``net_trade_cash``
    is what the day's fills cost (buys positive, sells negative) and ``prev_market_value``
    the value reported for the previous business date. Every version is kept (the view
    ``gold.portfolio_value_daily`` shows the latest)."""

    __table_args__ = {"schema": "gold"}
    business_date: date = Field(primary_key=True)
    portfolio_code: str = Field(primary_key=True, max_length=32)
    currency_code: str = Field(primary_key=True, max_length=3)
    positions: int
    market_value: Decimal = Field(sa_type=Numeric(24, 6))
    prev_market_value: Decimal = Field(sa_type=Numeric(24, 6))
    net_trade_cash: Decimal = Field(sa_type=Numeric(24, 6))
    pnl: Decimal = Field(sa_type=Numeric(24, 6))
    known_at: datetime = Field(
        sa_type=DateTime(timezone=True), description="the system time of the silver it reflects"
    )

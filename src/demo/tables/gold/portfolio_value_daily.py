from datetime import date
from decimal import Decimal

from sqlalchemy import Numeric, UniqueConstraint
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class PortfolioValueDaily(TransactionalTableBase, table=True):
    """Market value and daily P&L per portfolio and currency (no FX conversion):
    ``pnl = market_value - prev_market_value - net_trade_cash``, where ``net_trade_cash``
    is what the day's fills cost (buys positive, sells negative)."""

    __table_args__ = (
        UniqueConstraint("business_date", "portfolio_code", "currency_code"),
        {"schema": "gold"},
    )
    business_date: date
    portfolio_code: str = Field(max_length=32)
    currency_code: str = Field(max_length=3)
    positions: int
    market_value: Decimal = Field(sa_type=Numeric(24, 6))
    prev_market_value: Decimal = Field(sa_type=Numeric(24, 6))
    net_trade_cash: Decimal = Field(sa_type=Numeric(24, 6))
    pnl: Decimal = Field(sa_type=Numeric(24, 6))

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class TradeKpiDailyHist(TemporalTableBase, table=True):
    """Daily trading KPIs over the trades placed that day, in their state as known at
    ``known_at``. Every version is kept (the view ``gold.trade_kpi_daily`` shows the
    latest)."""

    __table_args__ = {"schema": "gold"}
    business_date: date = Field(primary_key=True)
    trades: int
    filled: int = Field(description="trades fully filled (FILLED, AMENDED or SETTLED)")
    partially_filled: int
    cancelled: int
    amended: int
    open_orders: int = Field(description="NEW or PARTIALLY_FILLED at the end of the data")
    notional: Decimal = Field(sa_type=Numeric(24, 6), description="sum of filled quantity x price")
    fill_rate: Decimal | None = Field(
        default=None, sa_type=Numeric(9, 6), description="filled quantity / ordered quantity"
    )
    rejected_events: int = Field(description="events of the day's batch in quarantine")
    known_at: datetime = Field(
        sa_type=DateTime(timezone=True), description="the system time of the silver it reflects"
    )

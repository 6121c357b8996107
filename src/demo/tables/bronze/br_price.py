from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric, UniqueConstraint
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class BrPrice(TransactionalTableBase, table=True):
    """One price per source, symbol and minute, from the minute price collector
    (``scripts/marketdata.py collect``). A minute the collector could not price is kept
    as a gap (no price, and why), never filled in."""

    __table_args__ = (
        UniqueConstraint("source", "symbol", "minute", name="br_price_source_symbol_minute_key"),
        {"schema": "bronze"},
    )
    source: str = Field(default="binance", max_length=32)
    symbol: str = Field(max_length=32)
    minute: datetime = Field(sa_type=DateTime(timezone=True), description="UTC minute collected")
    price: Decimal | None = Field(default=None, sa_type=Numeric(38, 18))
    exchange_time: datetime | None = Field(
        default=None, sa_type=DateTime(timezone=True), description="the exchange's clock"
    )
    loaded_at: datetime = Field(sa_type=DateTime(timezone=True))
    gap_reason: str | None = Field(default=None, description="why the minute has no price")

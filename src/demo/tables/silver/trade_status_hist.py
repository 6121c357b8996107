import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Index, Numeric, text
from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class TradeStatusHist(TemporalTableBase, table=True):
    """The history of each trade's state as the warehouse learned it: one version per daily
    load that changed it; ``status_time`` is the business time of that status (a late event
    shows an old ``status_time`` in a new version). Gold reads it as of a date's system
    time, so a date's figures never move when later days bring amendments.

    Every version is a copy of a ``silver.trade`` row written in the same transaction, so
    its references hold by construction; like ``silver.trade`` it declares no foreign keys
    (checked row by row, they were half the cost of writing a day's versions)."""

    __table_args__ = (
        # what changed between two system times (gold's day-over-day positions)
        Index("trade_status_hist_opened", "sys_start"),
        Index(
            "trade_status_hist_closed",
            "sys_end",
            postgresql_where=text("sys_end <> 'infinity'"),
        ),
        {"schema": "silver"},
    )
    trade_id: uuid.UUID = Field(primary_key=True)
    trade_date: date = Field(index=True, description="the trade's date (never changes)")
    trade_status_type_id: int
    portfolio_code: str = Field(max_length=32)
    instrument_code: str = Field(max_length=32)
    action_type_id: int
    quantity: Decimal = Field(sa_type=Numeric(18, 4))
    filled_quantity: Decimal = Field(sa_type=Numeric(18, 4))
    price: Decimal = Field(sa_type=Numeric(18, 6))
    status_time: datetime = Field(sa_type=DateTime(timezone=True))

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class Trade(TransactionalTableBase, table=True):
    """One row per trade in its latest known state; ``effective_time`` is when that state
    began (the event's business time). ``trade_id`` is a name-based UUID (v3) of
    ``source_trade_id``, so a replay produces the same keys."""

    __table_args__ = {"schema": "silver"}
    source_trade_id: str = Field(unique=True, max_length=64)
    trade_date: date = Field(index=True, description="day the trade was placed (first event)")
    portfolio_code: str = Field(max_length=32, index=True)
    instrument_code: str = Field(max_length=32, index=True)
    action_type_id: int = Field(foreign_key="common.action_type.action_type_id")
    trade_status_type_id: int = Field(foreign_key="common.trade_status_type.trade_status_type_id")
    quantity: Decimal = Field(sa_type=Numeric(18, 4))
    filled_quantity: Decimal = Field(sa_type=Numeric(18, 4))
    price: Decimal = Field(sa_type=Numeric(18, 6))
    last_event_id: str = Field(max_length=80)
    first_event_time: datetime = Field(sa_type=DateTime(timezone=True))

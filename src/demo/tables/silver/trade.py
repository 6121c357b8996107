from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class Trade(TransactionalTableBase, table=True):
    """One row per trade in its latest known state; ``effective_time`` is when that state
    began (the event's business time). ``trade_id`` is a name-based UUID (v3) of
    ``source_trade_id``, so a replay produces the same keys.

    ``action_type_id`` and ``trade_status_type_id`` come from ``common.action_type`` and
    ``common.trade_status_type``: the load resolves the codes against those tables and
    quarantines an event whose code is unknown, so no row can hold another value. They
    are not foreign keys: a day brings ~450k trades, and PostgreSQL checks a foreign key
    row by row (6 µs a row and reference here, 40% of publishing the day). Nor are
    ``portfolio_code`` and ``instrument_code`` indexed: nothing reads trades by them (gold
    reads ``silver.trade_status_hist`` by date), and each index cost 10% of the upsert."""

    __table_args__ = {"schema": "silver"}
    source_trade_id: str = Field(unique=True, max_length=64)
    trade_date: date = Field(index=True, description="day the trade was placed (first event)")
    portfolio_code: str = Field(max_length=32)
    instrument_code: str = Field(max_length=32)
    action_type_id: int
    trade_status_type_id: int
    quantity: Decimal = Field(sa_type=Numeric(18, 4))
    filled_quantity: Decimal = Field(sa_type=Numeric(18, 4))
    price: Decimal = Field(sa_type=Numeric(18, 6))
    last_event_id: str = Field(max_length=80)
    first_event_time: datetime = Field(sa_type=DateTime(timezone=True))

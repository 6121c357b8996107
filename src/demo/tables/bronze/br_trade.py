import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Index, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class BrTrade(TransactionalTableBase, table=True):
    """Trade lifecycle events as landed from the operational database (append-only)."""

    __table_args__ = (
        Index("br_trade_batch_idx", "logical_date", "batch_id"),
        {"schema": "bronze"},
    )
    source_trade_id: str | None = None
    source_event_id: str | None = None
    portfolio_code: str | None = None
    instrument_code: str | None = None
    action_code: str | None = None
    status_code: str | None = None
    quantity: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    price: Decimal | None = Field(default=None, sa_type=Numeric(18, 6))
    event_time: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    batch_id: uuid.UUID
    logical_date: date
    load_time: datetime = Field(sa_type=DateTime(timezone=True))
    source: str
    content_hash: str = Field(max_length=64)

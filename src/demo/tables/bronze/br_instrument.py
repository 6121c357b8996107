import uuid
from datetime import date, datetime

from sqlalchemy import DateTime
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class BrInstrument(TransactionalTableBase, table=True):
    """Instrument rows as landed from the operational database (append-only)."""

    __table_args__ = {"schema": "bronze"}
    instrument_code: str | None = None
    name: str | None = None
    asset_class_code: str | None = None
    exchange_mic: str | None = None
    currency_code: str | None = None
    batch_id: uuid.UUID
    logical_date: date
    load_time: datetime = Field(sa_type=DateTime(timezone=True))
    source: str
    content_hash: str = Field(max_length=64)

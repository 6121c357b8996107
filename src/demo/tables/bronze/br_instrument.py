from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field

from src._base.tables.load_metadata import LoadMetadataMixin
from src._base.tables.table_type_mixins import TransactionalTableBase


class BrInstrument(TransactionalTableBase, LoadMetadataMixin, table=True):
    """The instrument master as extracted each day (a full snapshot per batch, untyped)."""

    __table_args__ = {"schema": "bronze"}
    instrument_code: str | None = None
    name: str | None = None
    asset_class_code: str | None = None
    exchange_mic: str | None = None
    currency_code: str | None = None
    source_updated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

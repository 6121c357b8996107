from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field

from src._base.tables.load_metadata import LoadMetadataMixin
from src._base.tables.table_type_mixins import TransactionalTableBase


class BrPortfolio(TransactionalTableBase, LoadMetadataMixin, table=True):
    """The portfolio master as extracted each day (a full snapshot per batch, untyped)."""

    __table_args__ = {"schema": "bronze"}
    portfolio_code: str | None = None
    name: str | None = None
    base_currency_code: str | None = None
    manager: str | None = None
    source_updated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

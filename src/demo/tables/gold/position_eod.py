import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Numeric, UniqueConstraint
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class PositionEod(TransactionalTableBase, table=True):
    """End-of-day position per portfolio and instrument (a deterministic daily snapshot)."""

    __table_args__ = (
        UniqueConstraint("business_date", "portfolio_code", "instrument_code"),
        {"schema": "gold"},
    )
    position_eod_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    business_date: date
    portfolio_code: str = Field(max_length=32)
    instrument_code: str = Field(max_length=32)
    quantity: Decimal = Field(sa_type=Numeric(18, 4))
    market_value: Decimal | None = Field(default=None, sa_type=Numeric(20, 4))

from decimal import Decimal

from sqlalchemy import Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class Trade(TransactionalTableBase, table=True):
    """One row per trade (its latest state); effective_time is when that state began."""

    __table_args__ = {"schema": "silver"}
    source_trade_id: str = Field(unique=True, max_length=64)
    portfolio_code: str = Field(max_length=32, index=True)
    instrument_code: str = Field(max_length=32, index=True)
    action_type_id: int = Field(foreign_key="common.action_type.action_type_id")
    trade_status_type_id: int = Field(foreign_key="common.trade_status_type.trade_status_type_id")
    quantity: Decimal = Field(sa_type=Numeric(18, 4))
    price: Decimal = Field(sa_type=Numeric(18, 6))

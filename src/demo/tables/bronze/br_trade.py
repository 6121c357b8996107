from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlmodel import Field

from src._base.tables.load_metadata import LoadMetadataMixin
from src._base.tables.table_type_mixins import TransactionalTableBase


class BrTrade(TransactionalTableBase, LoadMetadataMixin, table=True):
    """Trade lifecycle events as recorded by the order system, one row per event as landed.

    Each event carries the trade's full state after it (ordered and filled quantity,
    average price); nothing is validated here: silver quarantines what breaks a rule.
    """

    __table_args__ = {"schema": "bronze"}
    source_event_id: str | None = None
    source_trade_id: str | None = None
    portfolio_code: str | None = None
    instrument_code: str | None = None
    action_code: str | None = None
    status_code: str | None = None
    quantity: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    filled_quantity: Decimal | None = Field(default=None, sa_type=Numeric(18, 4))
    price: Decimal | None = Field(default=None, sa_type=Numeric(18, 6))
    event_time: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

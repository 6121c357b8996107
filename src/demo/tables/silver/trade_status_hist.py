import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class TradeStatusHist(TemporalTableBase, table=True):
    """The status history of each trade as the warehouse learned it: one version per
    daily load that changed the trade's status or fill; ``status_time`` is the business
    time of that status (a late event shows an old ``status_time`` in a new version)."""

    __table_args__ = {"schema": "silver"}
    trade_id: uuid.UUID = Field(primary_key=True, foreign_key="silver.trade.trade_id")
    trade_status_type_id: int = Field(foreign_key="common.trade_status_type.trade_status_type_id")
    quantity: Decimal = Field(sa_type=Numeric(18, 4))
    filled_quantity: Decimal = Field(sa_type=Numeric(18, 4))
    price: Decimal = Field(sa_type=Numeric(18, 6))
    status_time: datetime = Field(sa_type=DateTime(timezone=True))

import uuid

from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class TradeStatusHist(TemporalTableBase, table=True):
    """The status history of each trade: one version per lifecycle state."""

    __table_args__ = {"schema": "silver"}
    trade_id: uuid.UUID = Field(primary_key=True, foreign_key="silver.trade.trade_id")
    trade_status_type_id: int = Field(foreign_key="common.trade_status_type.trade_status_type_id")

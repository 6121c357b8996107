from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class InstrumentHist(TemporalTableBase, table=True):
    """Every version of every instrument; the view silver.instrument shows current ones."""

    __table_args__ = {"schema": "silver"}
    instrument_code: str = Field(primary_key=True, max_length=32)
    name: str
    asset_class_type_id: int = Field(foreign_key="common.asset_class_type.asset_class_type_id")
    exchange_type_id: int = Field(foreign_key="common.exchange_type.exchange_type_id")
    currency_type_id: int = Field(foreign_key="common.currency_type.currency_type_id")

from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class PortfolioHist(TemporalTableBase, table=True):
    """Every version of every portfolio; the view silver.portfolio shows current ones."""

    __table_args__ = {"schema": "silver"}
    portfolio_code: str = Field(primary_key=True, max_length=32)
    name: str
    base_currency_type_id: int = Field(foreign_key="common.currency_type.currency_type_id")
    manager: str | None = None

from sqlmodel import Field

from src._base.tables.table_type_mixins import ReferenceTableBase


class TradeStatusType(ReferenceTableBase, table=True):
    """Lifecycle states of a trade: NEW, PARTIALLY_FILLED, FILLED, AMENDED, CANCELLED, SETTLED."""

    __table_args__ = {"schema": "common"}
    code: str = Field(max_length=24, unique=True)
    description: str
    is_terminal: bool = False

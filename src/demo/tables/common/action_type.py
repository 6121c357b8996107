from sqlmodel import Field

from src._base.tables.table_type_mixins import ReferenceTableBase


class ActionType(ReferenceTableBase, table=True):
    """What a trade does to a position: BUY, SELL, SHORT, COVER."""

    __table_args__ = {"schema": "common"}
    code: str = Field(max_length=16, unique=True)
    description: str
    position_sign: int = Field(description="+1 adds to the position, -1 reduces it")

from sqlmodel import Field

from src._base.tables.table_type_mixins import ReferenceTableBase


class ExchangeType(ReferenceTableBase, table=True):
    __table_args__ = {"schema": "common"}
    mic: str = Field(max_length=4, unique=True, description="ISO 10383 market identifier code")
    name: str
    timezone: str

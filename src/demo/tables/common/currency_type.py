from sqlmodel import Field

from src._base.tables.table_type_mixins import ReferenceTableBase


class CurrencyType(ReferenceTableBase, table=True):
    __table_args__ = {"schema": "common"}
    iso_code: str = Field(max_length=3, unique=True)
    name: str
    minor_units: int = 2

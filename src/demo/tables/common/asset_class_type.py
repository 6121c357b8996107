from sqlmodel import Field

from src._base.tables.table_type_mixins import ReferenceTableBase


class AssetClassType(ReferenceTableBase, table=True):
    __table_args__ = {"schema": "common"}
    code: str = Field(max_length=16, unique=True)
    description: str

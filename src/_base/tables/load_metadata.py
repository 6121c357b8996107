"""Load metadata every bronze row carries: which batch, for which day, when, from where.

    class BrTrade(TransactionalTableBase, LoadMetadataMixin, table=True):
        __table_args__ = {"schema": "bronze"}
        source_trade_id: str | None = None

``content_hash`` is the SHA-256 of the row's source columns (hex), so a reload or a
duplicate from the source is recognisable without comparing every column.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

LOAD_METADATA_COLUMNS = ("batch_id", "logical_date", "load_time", "source", "content_hash")


class LoadMetadataMixin(SQLModel):
    batch_id: uuid.UUID = Field(index=True)
    logical_date: date
    load_time: datetime = Field(sa_type=DateTime(timezone=True))
    source: str = Field(description="system.schema.table or landing path the row came from")
    content_hash: str = Field(max_length=64)

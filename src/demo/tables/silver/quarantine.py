import uuid
from datetime import date
from typing import Any

from sqlalchemy import Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class Quarantine(TransactionalTableBase, table=True):
    """Rows a silver load rejected, with the rule each broke: nothing is dropped silently.

    ``record`` is the rejected bronze row as JSON; a load replaces its own rows for its
    logical date, so a rerun does not add them twice.
    """

    __table_args__ = (
        Index("quarantine_job_date_idx", "job", "logical_date"),
        {"schema": "silver"},
    )
    job: str = Field(max_length=64, description="the silver load that rejected the row")
    logical_date: date
    source_table: str = Field(max_length=128)
    record_key: str | None = Field(default=None, description="the row's source key, if any")
    rule: str = Field(max_length=64)
    batch_id: uuid.UUID
    record: dict[str, Any] = Field(sa_type=JSONB)

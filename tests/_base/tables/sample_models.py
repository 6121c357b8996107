"""Table classes used by the framework tests: one per table type, plus edge cases.

Classes are made inside functions, because every test starts with an empty metadata.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, DateTime, Index, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import (
    ReferenceTableBase,
    TemporalTableBase,
    TransactionalTableBase,
)


def reference_model() -> type:
    class TradeStatusType(ReferenceTableBase, table=True):
        __table_args__ = {"schema": "common", "comment": "Lifecycle states of a trade"}
        code: str = Field(max_length=16, unique=True)
        description: str | None = None

    return TradeStatusType


def transactional_model(status: type) -> type:
    class Trade(TransactionalTableBase, table=True):
        __table_args__ = (
            Index("trade_portfolio_time_idx", "portfolio_id", "effective_time"),
            {"schema": "silver"},
        )
        portfolio_id: uuid.UUID
        trade_status_type_id: int = Field(
            foreign_key="common.trade_status_type.trade_status_type_id"
        )
        quantity: Decimal = Field(sa_type=Numeric(18, 4))
        price: Decimal = Field(sa_type=Numeric(18, 6))

    return Trade


def temporal_model(key_column: str = "sys_start") -> type:
    """The sample temporal table keyed by ``key_column``, or ``"partitioned"``: the
    partitioned history layout (which keys by sys_end)."""
    partitioned = key_column == "partitioned"

    class InstrumentHist(TemporalTableBase, table=True):
        __temporal_key__ = "sys_end" if partitioned else key_column
        __history_layout__ = "partitioned" if partitioned else "single"
        __table_args__ = {"schema": "silver"}
        instrument_id: int = Field(primary_key=True)
        symbol: str = Field(max_length=32)
        name: str | None = None
        price: Decimal | None = Field(default=None, sa_type=Numeric(18, 6))

    return InstrumentHist


def composite_key_temporal_model() -> type:
    class PositionLimitHist(TemporalTableBase, table=True):
        __table_args__ = {"schema": "silver"}
        portfolio_code: str = Field(primary_key=True)
        asset_class: str = Field(primary_key=True)
        max_notional: Decimal = Field(sa_type=Numeric(18, 2))

    return PositionLimitHist


def long_name_temporal_model() -> type:
    class VeryLongNamedCounterpartySettlementInstructionDetailHist(TemporalTableBase, table=True):
        __table_args__ = {"schema": "silver"}
        instruction_id: int = Field(primary_key=True)
        detail: str
        updated: datetime | None = Field(
            default=None, sa_column=Column("updated_at_source", DateTime(timezone=True))
        )

    return VeryLongNamedCounterpartySettlementInstructionDetailHist

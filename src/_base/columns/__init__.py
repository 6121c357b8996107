"""Reusable column types: each call builds a fresh field, so no Column is ever shared.

class PositionLimitHist(TemporalTableBase, table=True):
    portfolio_code: str = Field(primary_key=True)
    valid_during: DateTimeTZRange | None = tstzrange(nullable=True)
    max_notional: Decimal = amount(18, 2)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Numeric, SmallInteger, text
from sqlalchemy.dialects.postgresql import TSTZRANGE, Range
from sqlmodel import Field

from src._base.functions.keys import UUID_V7, uuid7

DateTimeTZRange = Range[datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def server_default(expression: str) -> dict[str, Any]:
    """``sa_column_kwargs`` for a default computed by the database."""
    return {"server_default": text(expression)}


def timestamptz(*, server: str | None = None, **kwargs: Any) -> Any:
    """A ``timestamptz`` field; ``server="now()"`` makes the database fill it."""
    if server is not None:
        kwargs["sa_column_kwargs"] = {
            **kwargs.get("sa_column_kwargs", {}),
            **server_default(server),
        }
    return Field(sa_type=DateTime(timezone=True), **kwargs)


def tstzrange(**kwargs: Any) -> Any:
    """A ``tstzrange`` field (a validity period, say), read as ``Range[datetime]``."""
    return Field(sa_type=TSTZRANGE, **kwargs)


def smallint_key(**kwargs: Any) -> Any:
    """A SMALLINT primary key with explicit values (reference tables)."""
    return Field(primary_key=True, sa_type=SmallInteger, sa_column_kwargs={"autoincrement": False})


def uuid_key() -> Any:
    """A time-ordered (v7) UUID primary key generated in Python, or by the database when
    absent (:mod:`src._base.functions.keys`)."""
    return Field(
        default_factory=uuid7,
        primary_key=True,
        sa_column_kwargs=server_default(f"{UUID_V7}()"),
    )


def amount(precision: int = 18, scale: int = 4, **kwargs: Any) -> Any:
    """An exact decimal (quantities, prices, money): never a float."""
    return Field(sa_type=Numeric(precision, scale), **kwargs)

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Double
from sqlmodel import Field

from src._base.tables.load_metadata import LoadMetadataMixin
from src._base.tables.table_type_mixins import TransactionalTableBase


class BrMinuteBar(TransactionalTableBase, LoadMetadataMixin, table=True):
    """One-minute OHLCV bars as landed from the market-data Parquet files."""

    __table_args__ = {"schema": "bronze"}
    symbol: str | None = None
    bar_time: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    open: float | None = Field(default=None, sa_type=Double)
    high: float | None = Field(default=None, sa_type=Double)
    low: float | None = Field(default=None, sa_type=Double)
    close: float | None = Field(default=None, sa_type=Double)
    volume: float | None = Field(default=None, sa_type=Double)
    trade_count: int | None = Field(default=None, sa_type=BigInteger)
    vwap: float | None = Field(default=None, sa_type=Double)
    source_file: str | None = None

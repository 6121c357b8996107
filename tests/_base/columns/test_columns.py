from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.dialects.postgresql import Range
from sqlmodel import Field, Session, select

from src._base.columns import DateTimeTZRange, amount, timestamptz, tstzrange
from src._base.tables.table_type_mixins import TransactionalTableBase
from src.config import ConnectionSettings
from src.utils.connections import create_db_engine
from tests._base.conftest import install


def test_each_call_builds_a_fresh_column() -> None:
    class LimitA(TransactionalTableBase, table=True):
        valid: DateTimeTZRange | None = tstzrange(default=None)

    class LimitB(TransactionalTableBase, table=True):
        valid: DateTimeTZRange | None = tstzrange(default=None)

    assert LimitA.__table__.c.valid is not LimitB.__table__.c.valid
    assert str(LimitA.__table__.c.valid.type) == "TSTZRANGE"


@pytest.mark.postgres
def test_range_amount_and_timestamptz_round_trip(connect, pg_database: ConnectionSettings) -> None:
    class RiskLimit(TransactionalTableBase, table=True):
        valid_during: DateTimeTZRange = tstzrange()
        max_notional: Decimal = amount(18, 2)
        reviewed_at: datetime | None = timestamptz(default=None, server="now()")
        desk: str = Field(max_length=8)

    install(connect(), RiskLimit)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    engine = create_db_engine(pg_database)
    try:
        with Session(engine) as session:
            session.add(
                RiskLimit(
                    valid_during=Range(start, None),
                    max_notional=Decimal("1000000.25"),
                    desk="EQ",
                )
            )
            session.commit()
            row = session.exec(select(RiskLimit)).one()
        assert row.valid_during == Range(start, None)
        assert row.max_notional == Decimal("1000000.25")
        assert row.reviewed_at is not None and row.reviewed_at.tzinfo is not None
    finally:
        engine.dispose()

from __future__ import annotations

import time
import uuid

import pytest
from sqlmodel import Field, SQLModel

from src._base.tables.table_type_mixins import (
    ReferenceTableMixin,
    TemporalTableBase,
    TransactionalTableBase,
)
from src._base.tables.table_types import REFERENCE, TEMPORAL, TRANSACTIONAL
from src.utils.errors import DefinitionError
from tests._base.tables.sample_models import (
    composite_key_temporal_model,
    reference_model,
    temporal_model,
    transactional_model,
)


def column_names(model: type) -> list[str]:
    return [c.name for c in model.__table__.columns]


def test_table_names_are_snake_case_of_the_class() -> None:
    status = reference_model()
    assert status.__tablename__ == "trade_status_type"
    assert transactional_model(status).__tablename__ == "trade"
    assert temporal_model().__tablename__ == "instrument_hist"


def test_explicit_table_name_wins() -> None:
    class Anything(TransactionalTableBase, table=True):
        __tablename__ = "order_entity"

    assert Anything.__table__.name == "order_entity"


def test_reference_tables_get_a_smallint_key_and_their_columns() -> None:
    model = reference_model()
    assert model.__table_type__ is REFERENCE
    assert column_names(model) == [
        "trade_status_type_id",
        "code",
        "description",
        "is_active",
        "systime",
    ]
    assert str(model.__table__.c.trade_status_type_id.type) == "SMALLINT"
    assert model.__table__.c.is_active.server_default.arg.text == "true"


def test_transactional_key_is_a_generated_uuid() -> None:
    trade = transactional_model(reference_model())
    assert trade.__table_type__ is TRANSACTIONAL
    assert column_names(trade)[0] == "trade_id"
    first, second = trade(), trade()
    assert isinstance(first.trade_id, uuid.UUID) and first.trade_id != second.trade_id
    # time-ordered (v7): the first 48 bits are the Unix milliseconds it was made at
    assert first.trade_id.version == 7
    assert abs((first.trade_id.int >> 80) - time.time_ns() // 1_000_000) < 60_000
    assert "medallion.uuid_v7()" in trade.__table__.c.trade_id.server_default.arg.text
    assert trade.__table__.c.effective_time.type.timezone is True


def test_temporal_primary_key_is_business_key_then_sys_start() -> None:
    model = composite_key_temporal_model()
    assert model.__table_type__ is TEMPORAL
    assert [c.name for c in model.__table__.primary_key.columns] == [
        "portfolio_code",
        "asset_class",
        "sys_start",
    ]
    assert column_names(model)[-2:] == ["sys_start", "sys_end"]
    assert model.__table__.c.sys_end.server_default.arg.text == "'infinity'"


def test_temporal_key_can_end_in_sys_end() -> None:
    model = temporal_model("sys_end")
    assert [c.name for c in model.__table__.primary_key.columns] == ["instrument_id", "sys_end"]


def test_unknown_temporal_key_is_refused() -> None:
    with pytest.raises(DefinitionError, match="allowed values are 'sys_start', 'sys_end'"):

        class OddHist(TemporalTableBase, table=True):
            __temporal_key__ = "valid_from"
            odd_id: int = Field(primary_key=True)


def test_no_column_object_is_shared_between_tables() -> None:
    class AlphaHist(TemporalTableBase, table=True):
        alpha_id: int = Field(primary_key=True)

    class BetaHist(TemporalTableBase, table=True):
        beta_id: int = Field(primary_key=True)

    assert AlphaHist.__table__.c.sys_start is not BetaHist.__table__.c.sys_start
    assert BetaHist.__table__.c.sys_start.table is BetaHist.__table__


def test_mixin_composes_with_a_base_of_ones_own() -> None:
    class Audited(SQLModel):
        created_by: str = "system"

    class CurrencyType(ReferenceTableMixin, Audited, table=True):
        iso_code: str = Field(max_length=3)

    assert CurrencyType.__table_type__ is REFERENCE
    assert set(column_names(CurrencyType)) == {
        "currency_type_id",
        "iso_code",
        "created_by",
        "is_active",
        "systime",
    }


def test_declared_key_is_kept() -> None:
    class ExchangeType(ReferenceTableMixin, SQLModel, table=True):
        exchange_type_id: int = Field(primary_key=True)

    assert [c.name for c in ExchangeType.__table__.primary_key.columns] == ["exchange_type_id"]
    assert "exchange_type_id_id" not in column_names(ExchangeType)


def test_models_validate_like_pydantic_models() -> None:
    model = temporal_model()
    row = model.model_validate({"instrument_id": 7, "symbol": "ACME"})
    assert row.instrument_id == 7 and row.sys_start is None

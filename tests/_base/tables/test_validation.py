"""Convention validation with deliberately wrong classes: every violation, one line each."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Integer, String
from sqlmodel import Field, SQLModel

from src._base.tables.table_type_mixins import (
    ReferenceTableBase,
    TemporalTableBase,
    TransactionalTableBase,
)
from src._base.tables.validation import check_conventions, validate_models
from src.utils.errors import ConventionError
from tests._base.tables.sample_models import (
    composite_key_temporal_model,
    reference_model,
    temporal_model,
    transactional_model,
)


def problems(*models: type) -> list[str]:
    return [v.problem for v in validate_models(models)]


def test_well_formed_models_pass() -> None:
    status = reference_model()
    models = [status, transactional_model(status), temporal_model(), composite_key_temporal_model()]
    assert validate_models(models) == []
    check_conventions(models)


def test_reference_table_names_end_in_type() -> None:
    class TradeStatus(ReferenceTableBase, table=True):
        code: str

    assert problems(TradeStatus) == [
        "a reference table's name must end in '_type' (or '_status_type')"
    ]


def test_reference_key_must_be_smallint() -> None:
    class ActionType(ReferenceTableBase, table=True):
        action_type_id: int = Field(primary_key=True, sa_type=Integer)

    [problem] = problems(ActionType)
    assert "one SMALLINT primary key, found action_type_id INTEGER" in problem


def test_transactional_key_must_be_uuid_and_name_not_hist() -> None:
    class TradeHist(TransactionalTableBase, table=True):
        trade_id: str = Field(primary_key=True, sa_type=String)

    found = problems(TradeHist)
    assert any("one UUID primary key, found trade_id VARCHAR" in p for p in found)
    assert any("not ending in '_type' or '_hist'" in p for p in found)


def test_temporal_needs_hist_suffix_and_a_business_key() -> None:
    class Instrument(TemporalTableBase, table=True):
        symbol: str = Field(primary_key=False)
        row_id: int | None = Field(default=None, primary_key=False)

    found = problems(Instrument)
    assert "a temporal table's name must end in '_hist'" in found
    assert "a temporal table needs a business key" in found


def test_required_column_with_the_wrong_type() -> None:
    class LegType(ReferenceTableBase, table=True):
        is_active: int = Field(default=1)

    assert "column 'is_active' is INTEGER, expected BOOLEAN" in problems(LegType)


def test_bronze_tables_need_the_br_prefix() -> None:
    class RawTrade(TransactionalTableBase, table=True):
        __table_args__ = {"schema": "bronze"}

    assert "bronze tables are prefixed 'br_'" in problems(RawTrade)


def test_table_without_a_type_and_bad_names() -> None:
    class lowercase_class(SQLModel, table=True):  # noqa: N801
        __tablename__ = "BadName"
        ID: uuid.UUID = Field(primary_key=True)

    found = problems(lowercase_class)
    assert "has no table type" in found
    assert any("is not CamelCase" in p for p in found)
    assert any("'BadName' is not snake_case" in p for p in found)
    assert any("column 'ID'" in p for p in found)


def test_too_long_table_name() -> None:
    class Anything(TransactionalTableBase, table=True):
        __tablename__ = "t" * 64

    assert any("PostgreSQL keeps only 63" in p for p in problems(Anything))


def test_every_violation_is_reported_at_once_with_file_class_and_fix() -> None:
    class TradeStatus(ReferenceTableBase, table=True):
        code: str

    class Instrument(TemporalTableBase, table=True):
        symbol: str

    with pytest.raises(ConventionError) as err:
        check_conventions([TradeStatus, Instrument])
    lines = str(err.value).splitlines()
    assert lines[0] == "3 convention violation(s):"
    assert all("tests/_base/tables/test_validation.py: " in line for line in lines[1:])
    assert all("Fix: " in line for line in lines[1:])
    assert any("TradeStatus" in line for line in lines) and any(
        "Instrument" in line for line in lines
    )

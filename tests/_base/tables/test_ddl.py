"""Golden DDL per table type, rendered without a server.

Regenerate after an intended change with ``make test PYTEST_ARGS="--update-golden"`` and
review the diff of ``tests/_base/tables/golden/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from src._base.naming import MAX_IDENTIFIER_BYTES
from src._base.tables.ddl import render_table
from tests._base.tables.sample_models import (
    composite_key_temporal_model,
    long_name_temporal_model,
    reference_model,
    temporal_model,
    transactional_model,
)

GOLDEN = Path(__file__).parent / "golden"


CASES = {
    "reference": reference_model,
    "transactional": lambda: transactional_model(reference_model()),
    "temporal": temporal_model,
    "temporal_composite_key": composite_key_temporal_model,
    "temporal_long_name": long_name_temporal_model,
    "temporal_sys_end_key": lambda: temporal_model("sys_end"),
    "temporal_partitioned": lambda: temporal_model("partitioned"),
}


@pytest.mark.parametrize(
    "case",
    list(CASES),
)
def test_rendered_ddl_matches_golden_file(case: str, request: pytest.FixtureRequest) -> None:
    rendered = render_table(CASES[case]()).script()
    golden = GOLDEN / f"{case}.sql"
    if request.config.getoption("--update-golden"):
        golden.write_text(rendered)
    assert golden.exists(), f"{golden} missing: run pytest --update-golden"
    assert rendered == golden.read_text(), f"DDL for {case} changed; see {golden}"


def test_generated_identifiers_fit_in_63_bytes_and_are_unique() -> None:
    ddl = render_table(long_name_temporal_model()).script()
    import re

    names = re.findall(r'"([^"]+)"', ddl)
    assert names, ddl
    assert max(len(n.encode()) for n in names) <= MAX_IDENTIFIER_BYTES
    functions = set(re.findall(r'FUNCTION "silver"\."([^"]+)"\(', ddl))
    assert len(functions) == 8  # six trigger functions, as_of, between


def test_non_temporal_tables_get_no_triggers_or_views() -> None:
    ddl = render_table(reference_model())
    assert ddl.triggers == {} and ddl.views == {} and ddl.functions == {}


def test_render_refuses_a_class_that_is_not_a_table() -> None:
    from sqlmodel import SQLModel

    class NotATable(SQLModel):
        x: int

    with pytest.raises(TypeError, match="is not a table"):
        render_table(NotATable)


def test_identifiers_the_sql_cannot_carry_are_refused() -> None:
    from sqlmodel import Field

    from src._base.tables.table_type_mixins import TemporalTableBase
    from src.utils.errors import DefinitionError

    class OddHist(TemporalTableBase, table=True):
        __table_args__ = {"schema": "o'brien%s"}
        odd_id: int = Field(primary_key=True)

    with pytest.raises(DefinitionError, match="letters, digits and underscores"):
        render_table(OddHist)

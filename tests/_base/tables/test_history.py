"""The Python point-in-time helpers return what the generated SQL functions return."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from src._base.tables.history import all_versions, as_of, between, current
from src.config import ConnectionSettings
from src.utils.connections import create_db_engine
from src.utils.errors import DefinitionError
from tests._base.conftest import install
from tests._base.tables.sample_models import reference_model, temporal_model

pytestmark = pytest.mark.postgres


def test_helpers_match_the_sql_functions(connect, pg_database: ConnectionSettings) -> None:
    model = temporal_model()
    conn = connect()
    install(conn, model)
    stamps = []
    for statement in (
        "INSERT INTO silver.instrument (instrument_id, symbol, price) "
        "VALUES (1, 'A', 1), (2, 'B', 2)",
        "UPDATE silver.instrument SET price = 10 WHERE instrument_id = 1",
        "DELETE FROM silver.instrument WHERE instrument_id = 2",
    ):
        with conn.cursor() as cur:
            cur.execute("SELECT now()")
            stamps.append(cur.fetchone()[0])
            cur.execute(statement)
        conn.commit()

    engine = create_db_engine(pg_database)
    try:
        with Session(engine) as session, engine.connect() as raw:

            def sql(query: str, *args) -> list[tuple]:
                return [tuple(r) for r in raw.exec_driver_sql(query, args).fetchall()]

            def rows(statement) -> list[tuple]:
                return [(r.instrument_id, r.price) for r in session.exec(statement).all()]

            for at in (*stamps, stamps[-1] + timedelta(hours=1)):
                expected = sql(
                    "SELECT instrument_id, price FROM silver.instrument__as_of(%s) ORDER BY 1", at
                )
                assert rows(as_of(model, at)) == expected
            expected = sql(
                "SELECT instrument_id, price FROM silver.instrument__between(%s, %s) "
                "ORDER BY 1, sys_start",
                stamps[0],
                stamps[2],
            )
            assert rows(between(model, stamps[0], stamps[2])) == expected
            assert rows(current(model)) == [(1, 10)]
            assert len(rows(all_versions(model))) == 3
    finally:
        engine.dispose()


def test_helpers_refuse_non_temporal_tables() -> None:
    with pytest.raises(DefinitionError, match="is not a temporal table"):
        current(reference_model())

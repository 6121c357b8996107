"""Converting a temporal table between history layouts, statement by statement on a real
server: what autogenerate cannot show (a foreign key to a table outside the project's
classes, a second index, the period check) comes through both ways."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from src._base.migrations.versioning import convert_sql, reflected_names
from src.utils.connections import sqlalchemy_url
from tests._base.conftest import install
from tests._base.tables.sample_models import temporal_model

pytestmark = pytest.mark.postgres

OBJECTS = """
SELECT (SELECT relkind::text FROM pg_class WHERE oid = 'silver.instrument_hist'::regclass),
       (SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint
        WHERE conrelid = 'silver.instrument_hist'::regclass AND contype IN ('f', 'c')),
       (SELECT array_agg(indexname::text ORDER BY indexname) FROM pg_indexes
        WHERE schemaname = 'silver' AND tablename = 'instrument_hist'
          AND indexname LIKE '%symbol%')
"""
VERSIONS = "SELECT instrument_id, symbol, price, sys_start, sys_end FROM silver.instrument_hist"


def test_a_foreign_key_an_index_and_every_version_survive_both_ways(connect, pg_database):
    conn = connect()
    install(conn, temporal_model())
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE public.symbols (symbol text PRIMARY KEY)")
        cur.execute("INSERT INTO public.symbols VALUES ('AAA'), ('BBB')")
        cur.execute("ALTER TABLE silver.instrument_hist ADD CONSTRAINT instrument_symbol_fk "
                    "FOREIGN KEY (symbol) REFERENCES public.symbols (symbol)")  # fmt: skip
        cur.execute("CREATE INDEX instrument_hist_symbol ON silver.instrument_hist (symbol)")
        cur.execute("INSERT INTO silver.instrument (instrument_id, symbol, price) "
                    "VALUES (1, 'AAA', 1), (2, 'BBB', 2)")  # fmt: skip
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("UPDATE silver.instrument SET price = 3 WHERE instrument_id = 1")
    conn.commit()
    engine = create_engine(sqlalchemy_url(pg_database))
    results = []
    with conn.cursor() as cur:
        cur.execute(VERSIONS + " ORDER BY 1, 4")
        before = cur.fetchall()
    for partitioned in (True, False):
        with engine.connect() as sa_conn:
            names = reflected_names(sa_conn, "silver", "instrument_hist")
        with conn.cursor() as cur:
            for statement in convert_sql(names, partitioned):
                cur.execute(statement)
            conn.commit()
            cur.execute(OBJECTS)
            results.append(cur.fetchone())
            cur.execute(VERSIONS + " ORDER BY 1, 4")
            assert cur.fetchall() == before
            # Versioned through the view as before: one closed version per change.
            cur.execute("UPDATE silver.instrument SET price = price + 1 WHERE instrument_id = 2")
            cur.execute("SELECT count(*) FROM silver.instrument_hist WHERE instrument_id = 2")
            assert cur.fetchone() == (2,)
            conn.rollback()
            with pytest.raises(Exception, match="instrument_symbol_fk"):
                cur.execute("INSERT INTO silver.instrument (instrument_id, symbol) "
                            "VALUES (3, 'ZZZ')")  # fmt: skip
            conn.rollback()
    engine.dispose()
    kept = (["instrument_hist_period_check", "instrument_symbol_fk"], ["instrument_hist_symbol"])
    assert results == [("p", *kept), ("r", *kept)]

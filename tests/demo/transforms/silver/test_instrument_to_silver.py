"""instrument_to_silver's rules on a hand-made batch, on both engines: repeated rows of a
code are found with an aggregate and only they are ranked."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from src._base.pipeline.catalogue import load_transform
from src.config import SRC_PATH
from src.utils.connections import connect_raw
from tests.demo.transforms.expected import query

INSTRUMENTS = load_transform(SRC_PATH, "demo", "silver", "instrument_to_silver")
DAY = date(2026, 11, 20)

# code, name, asset class, exchange, currency
ROWS = [
    ("AAA", "Alpha", "EQUITY", "XNYS", "USD"),  # clean
    ("BBB", "Beta", "EQUITY", "XNYS", "USD"),  # exactly repeated: the first copy stays
    ("BBB", "Beta", "EQUITY", "XNYS", "USD"),
    ("BBB", "Beta", "EQUITY", "XNYS", "USD"),
    ("CCC", "Gamma", "EQUITY", "XNYS", "USD"),  # two different rows: neither is trusted
    ("CCC", "Gamma Corp", "EQUITY", "XNYS", "USD"),
    ("DDD", "Delta", "EQUITY", "XNYS", "XXX"),  # unknown currency beats being repeated
    ("DDD", "Delta", "EQUITY", "XNYS", "XXX"),
]


def land_batch(demo_env) -> None:
    """The day's bronze batch, published as instrument_to_bronze would."""
    cfg = demo_env.config(DAY)
    batch = cfg.batch_id("instrument_to_bronze")
    raw = connect_raw(demo_env.warehouse)
    try:
        with raw.cursor() as cur:
            for code, name, asset, mic, currency in ROWS:
                cur.execute(
                    "INSERT INTO bronze.br_instrument (batch_id, logical_date, load_time, source,"
                    " content_hash, instrument_code, name, asset_class_code, exchange_mic,"
                    " currency_code, effective_time) VALUES (%s, %s, now(), 'test',"
                    " md5(concat_ws('|', %s, %s, %s, %s, %s)), %s, %s, %s, %s, %s, now())",
                    (str(batch), DAY, *(code, name, asset, mic, currency) * 2),
                )
            cur.execute(
                "INSERT INTO medallion.load_log (job, logical_date, batch_id, status)"
                " VALUES ('instrument_to_bronze', %s, %s, 'succeeded')",
                (DAY, str(batch)),
            )
        raw.commit()
    finally:
        raw.close()


@pytest.mark.parametrize("engine", ["spark", "postgres"])
def test_repeated_rows_keep_one_copy_and_conflicting_ones_are_all_quarantined(
    demo_env, engine: str, request
) -> None:
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    land_batch(demo_env)
    result = INSTRUMENTS.run(spark, replace(demo_env.config(DAY), engine=engine))
    rejected = query(
        demo_env.warehouse,
        "SELECT record_key, rule, count(*) AS n FROM silver.quarantine"
        " WHERE job = 'instrument_to_silver' GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert list(rejected.itertuples(index=False, name=None)) == [
        ("BBB", "duplicate_row", 2),
        ("CCC", "conflicting_duplicate", 2),
        ("DDD", "unknown_currency", 2),
    ]
    current = query(demo_env.warehouse, "SELECT instrument_code, name FROM silver.instrument"
                    " ORDER BY 1")  # fmt: skip
    assert list(current.itertuples(index=False, name=None)) == [("AAA", "Alpha"), ("BBB", "Beta")]
    assert result.rows_read == 8 and sum(result.rejected.values()) == 6

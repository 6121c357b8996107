"""Spark SQL → PostgreSQL: each rewrite gives what Spark gives, on both real engines; what
cannot be translated fails naming the step and the construct."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from src._base.engines.transpile import UUID3, TranspileError, to_postgres, uuid3_postgres
from src._base.pipeline.frames import KEY_NAMESPACE, uuid3_sql
from src.config import ConnectionSettings
from src.utils.connections import connect_raw

pytestmark = pytest.mark.postgres

COLUMNS = {"g": "text", "a": "bigint", "b": "bigint", "d": "numeric(18,6)", "ts": "timestamptz",
           "s": "text"}  # fmt: skip
SPARK_TYPES = "g string, a bigint, b bigint, d decimal(18,6), ts timestamp, s string"
T = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ROWS = [
    ("x", 1, 2, Decimal("10.5"), T, "bars/symbol=AAPL/day=1"),
    ("x", 3, 0, Decimal("11.25"), T.replace(minute=31, microsecond=500000), "no match here"),
    ("x", None, 5, None, None, None),
    ("y", 7, 2, Decimal("3"), T.replace(hour=15), "bars/symbol=0700/day=2"),
    ("y", 2, 2, Decimal("4"), T.replace(hour=10, second=10), "bars/symbol=MSFT/day=2"),
]

CASES = {
    "min_by/max_by": "SELECT g, min_by(d, ts) AS o, max_by(d, ts) AS c FROM t GROUP BY g",
    "count_if over rows and over none": "SELECT g, count_if(a > 2) AS n, "
    "count_if(a > 100) AS none FROM t GROUP BY g",
    "integer division": "SELECT g, sum(a) / sum(b) AS r FROM t GROUP BY g",
    "regexp_extract, '' without a match": "SELECT a, regexp_extract(s, 'symbol=([^/]+)/', 1) "
    "AS sym FROM t",
    "unix_timestamp and to_date": "SELECT a, unix_timestamp(ts) AS u, to_date(ts) AS dt FROM t",
    "timestamps as text": "SELECT a, cast(ts AS STRING) AS st FROM t",
    "to_json of named_struct": "SELECT a, to_json(named_struct('a', a, 'd', d, 'ts', ts, 's', "
    "s)) AS j FROM t",
    "derived tables and windows": "SELECT g, a, prev FROM (SELECT g, a, lag(a) OVER "
    "(PARTITION BY g ORDER BY a) AS prev FROM t) q",
    "timestamp literals are UTC": "SELECT count(*) AS n FROM t WHERE ts >= TIMESTAMP "
    "'2026-11-20 09:31:00'",
    "content hashes (sha2 of to_json)": "SELECT a, sha2(to_json(named_struct('a', a, 's', s, "
    "'ts', ts, 'd', d)), 256) AS h FROM t",
    "name-based keys": "SELECT a, {key} AS k FROM t",
}


@pytest.fixture(scope="module")
def spark_t(spark):
    spark.createDataFrame(ROWS, SPARK_TYPES).createOrReplaceTempView("t")
    return spark


@pytest.fixture
def pg(pg_database: ConnectionSettings):
    raw = connect_raw(pg_database)
    with raw.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        cur.execute(f"CREATE TEMP TABLE t ({columns})")
        cur.executemany("INSERT INTO t VALUES (%s, %s, %s, %s, %s, %s)", ROWS)
    yield raw
    raw.close()


def normal(value):
    if isinstance(value, float | Decimal):
        return round(float(value), 9)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # Spark hands back naive UTC (session zone UTC)
    return value


def rows_of(rows) -> list[tuple]:
    return sorted((tuple(normal(v) for v in row) for row in rows), key=repr)


KEY_NAME = "concat_ws('@', 'k', g, cast(ts AS STRING))"


@pytest.mark.parametrize("sql", CASES.values(), ids=CASES.keys())
def test_each_rewrite_gives_what_spark_gives(spark_t, pg, sql: str) -> None:
    expected = rows_of(spark_t.sql(sql.format(key=uuid3_sql(KEY_NAME))).collect())
    with pg.cursor() as cur:
        cur.execute(to_postgres(sql.format(key=f"{UUID3}({KEY_NAME})"), {"t": COLUMNS}, where="t"))
        got = [tuple(str(v) if isinstance(v, uuid.UUID) else v for v in row) for row in cur]
    assert rows_of(got) == expected


def test_keys_are_pythons_uuid3(pg) -> None:
    # enough names that every value of the bits the SQL sets occurs, some not ASCII
    names = ["daily_bar@2026-11-20@AAPL", "Zürich@€", *(f"T{n:07d}" for n in range(500))]
    with pg.cursor() as cur:
        cur.execute(
            "SELECT name, " + uuid3_postgres("name") + " FROM unnest(%s::text[]) AS n(name)",
            (names,),
        )
        got = dict(cur.fetchall())
    assert got == {name: str(uuid.uuid3(KEY_NAMESPACE, name)) for name in names}
    assert {str(got[name])[19] for name in names} == set("89ab")  # the variant's nibble


def test_a_function_postgresql_lacks_is_named_with_the_step() -> None:
    with pytest.raises(TranspileError, match=r"^bar_to_gold, step daily: cannot translate "
                       r"PERCENTILE_APPROX\(`t`.`a`, 0.5\) to PostgreSQL\. Rewrite"):  # fmt: skip
        to_postgres("SELECT percentile_approx(a, 0.5) AS p FROM t", {"t": COLUMNS},
                    where="bar_to_gold, step daily")  # fmt: skip


def test_an_unknown_function_or_column_is_named() -> None:
    with pytest.raises(TranspileError, match=r"cannot translate function my_udf\(\)"):
        to_postgres("SELECT my_udf(a) AS z FROM t", {"t": COLUMNS}, where="x")
    with pytest.raises(TranspileError, match=r"x: cannot translate the step: Column 'nope'"):
        to_postgres("SELECT nope FROM t", {"t": COLUMNS}, where="x")
    with pytest.raises(TranspileError, match=r"x: cannot translate the step: "):
        to_postgres("SELEC a FROM t", {"t": COLUMNS}, where="x")

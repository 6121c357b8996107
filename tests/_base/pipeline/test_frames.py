"""Spark SQL helpers: name-based keys equal Python's uuid3, hashes tell NULL from ''."""

from __future__ import annotations

import uuid

from src._base.pipeline.frames import KEY_NAMESPACE, content_hash_sql, read_jdbc, uuid3_sql
from src.utils.connections import connect_raw


def test_uuid3_sql_gives_pythons_uuid3(spark) -> None:
    names = ["T20261120-0000001", "ÄÖÜ-unicode", "", "x" * 200]
    df = spark.createDataFrame([(n,) for n in names], "name string")
    got = [r.key for r in df.selectExpr("name", f"{uuid3_sql('name')} AS key").collect()]
    assert got == [str(uuid.uuid3(KEY_NAMESPACE, n)) for n in names]
    assert all(uuid.UUID(k).version == 3 for k in got)


def test_content_hash_tells_null_from_empty_and_is_stable(spark) -> None:
    df = spark.createDataFrame([("a", None), ("a", ""), ("a", None)], "x string, y string")
    hashes = [r.h for r in df.selectExpr(f"{content_hash_sql(['x', 'y'])} AS h").collect()]
    assert hashes[0] == hashes[2] != hashes[1]
    assert len(hashes[0]) == 64


def test_read_jdbc_splits_a_query_into_disjoint_partitions(spark, pg_database) -> None:
    raw = connect_raw(pg_database)
    with raw, raw.cursor() as cur:
        cur.execute(
            "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000) g"
        )
    raw.close()
    df = read_jdbc(
        spark, pg_database, "(SELECT * FROM t) q", partitions=4, partition_sql="hashtext(v)"
    )
    assert df.rdd.getNumPartitions() == 4
    ids = [r.id for r in df.collect()]
    assert sorted(ids) == list(range(1, 1001))

"""Spark-side helpers for transforms: inputs as temporary views, SQL snippets, writes.

These build Spark SQL text or call Spark's own readers; business logic stays in each
transform's SQL (no Python UDFs), so it pastes into a Databricks notebook unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from src.config import ConnectionSettings
from src.utils.spark import jdbc_options, write_copy, write_jdbc

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

# Name-based keys (uuid3 of a business key) are the same on every replay.
KEY_NAMESPACE = uuid.UUID("0c6f2d8a-7b0e-4c2e-9a51-3f1d2e6b9c47")


def uuid3_sql(name_sql: str, namespace: uuid.UUID = KEY_NAMESPACE) -> str:
    """Spark SQL for ``uuid.uuid3(namespace, name)``: a deterministic RFC 4122 key.

    The digest expression repeats; Spark evaluates it once per row (subexpression
    elimination), and plain expressions keep it usable in any SELECT list.
    """
    h = f"md5(concat(unhex('{namespace.hex}'), encode({name_sql}, 'UTF-8')))"
    variant = f"lower(hex((cast(conv(substr({h}, 17, 1), 16, 10) AS INT) & 3) | 8))"
    return (
        f"concat_ws('-', substr({h}, 1, 8), substr({h}, 9, 4), concat('3', substr({h}, 14, 3)), "
        f"concat({variant}, substr({h}, 18, 3)), substr({h}, 21, 12))"
    )


def content_hash_sql(columns: Sequence[str]) -> str:
    """SHA-256 (hex) of the named columns as JSON: NULL and '' hash differently."""
    fields = ", ".join(f"'{column}', {column}" for column in columns)
    return f"sha2(to_json(named_struct({fields})), 256)"


def read_jdbc(
    spark: SparkSession,
    conn: ConnectionSettings,
    query: str,
    *,
    partitions: int = 1,
    partition_sql: str | None = None,
) -> DataFrame:
    """Read ``query`` (a table or ``(SELECT ...) q``), split into ``partitions`` reads.

    ``partition_sql`` is an integer expression in PostgreSQL (e.g. ``hashtext(id)``);
    partition ``i`` reads the rows where ``abs(expr) % partitions = i``. No bounds to
    guess, and every row lands in exactly one partition.
    """
    options = jdbc_options(conn, query)
    options["fetchsize"] = "10000"
    options["sessionInitStatement"] = "SET jit = off"  # see engines/postgres.py: Steps
    if partitions <= 1 or partition_sql is None:
        return spark.read.format("jdbc").options(**options).load()
    url, table = options.pop("url"), options.pop("dbtable")
    predicates = [f"abs(({partition_sql}) % {partitions}) = {i}" for i in range(partitions)]
    return spark.read.jdbc(url, table, predicates=predicates, properties=options)


def register(df: DataFrame, name: str) -> DataFrame:
    """Make ``df`` a temporary view for the transform's SQL; returns it."""
    df.createOrReplaceTempView(name)
    return df


def write_frame(df: DataFrame, conn: ConnectionSettings, table: str, writer: str) -> int:
    """Append ``df`` to ``table``: COPY per partition (``copy``) or Spark's JDBC writer."""
    if writer == "jdbc":
        df = df.cache()
        count = df.count()
        write_jdbc(df, conn, table)
        df.unpersist()
        return count
    return write_copy(df, conn, table)

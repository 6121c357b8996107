"""The ``spark`` engine's side of the engine-neutral loads: views are Spark temp views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from src._base.pipeline.claims import Claim
from src._base.pipeline.frames import register, uuid3_sql
from src._base.pipeline.publish import Publication
from src._base.pipeline.shapes import Read, register_reads
from src._base.pipeline.silver import register_batch

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession


class SparkSteps:
    """A load's relations as Spark temporary views (see ``postgres.Steps``)."""

    def __init__(self, spark: SparkSession, claim: Claim, name: str) -> None:
        self.spark, self.cfg, self.name = spark, claim.cfg, name
        self.params = claim.cfg.params()
        self.frames: dict[str, DataFrame] = {}
        self.cached: list[DataFrame] = []

    def batch(self, view: str, table: str, batch_id: object) -> None:
        self.frames[view] = register_batch(self.spark, self.cfg, table, batch_id, view)

    def read(self, view: str, read: Read) -> None:
        register_reads(self.spark, self.cfg, {view: read})

    def step(self, view: str, spark_sql: str, *, key: str = "", table: bool = False) -> Any:
        text = spark_sql.format(key=uuid3_sql(key.format(**self.params)), **self.params)
        df = self.spark.sql(text)
        if table:
            df = df.cache()
            self.cached.append(df)
        self.frames[view] = register(df, view)
        return text

    def stage(self, pub: Publication, view: str, types: dict[str, str], *, name: str = "") -> str:
        """Stage ``view`` (as ``name``, default its own) with COPY from Spark."""
        return pub.stage(self.frames[view], name or view, types=types)

    def stage_read_once(self, pub: Publication, view: str) -> str:
        """A frame outside the database is copied in all the same."""
        return self.stage(pub, view, {})

    def columns(self, view: str) -> list[str]:
        return list(self.frames[view].columns)

    def count(self, view: str) -> int:
        return self.frames[view].count()

    def scalar(self, view: str) -> Any:
        return self.frames[view].first()[0]

    def close(self) -> None:
        for df in self.cached:
            df.unpersist()

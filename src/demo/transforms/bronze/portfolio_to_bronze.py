"""Land the portfolio master (``ops.portfolio``, a full snapshot each day) in bronze."""

from pyspark.sql import SparkSession

from src._base.pipeline.bronze import append_batch
from src._base.pipeline.frames import read_jdbc, register
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

JOB = "portfolio_to_bronze"

LANDED = """
SELECT portfolio_code,
       name,
       base_currency AS base_currency_code,
       manager,
       updated_at    AS source_updated_at,
       updated_at    AS effective_time
FROM src_portfolio
"""


def run(spark: SparkSession, cfg: RunConfig) -> TransformResult:
    register(read_jdbc(spark, cfg.source, "ops.portfolio"), "src_portfolio")
    source = f"{cfg.source.database}.ops.portfolio"
    return append_batch(cfg, JOB, spark.sql(LANDED), target="bronze.br_portfolio", source=source)

"""Land the instrument master (``ops.instrument``, a full snapshot each day) in bronze."""

from pyspark.sql import SparkSession

from src._base.pipeline.bronze import append_batch
from src._base.pipeline.frames import read_jdbc, register
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

JOB = "instrument_to_bronze"

LANDED = """
SELECT instrument_code,
       name,
       asset_class  AS asset_class_code,
       exchange_mic,
       currency     AS currency_code,
       updated_at   AS source_updated_at,
       updated_at   AS effective_time
FROM src_instrument
"""


def run(spark: SparkSession, cfg: RunConfig) -> TransformResult:
    register(read_jdbc(spark, cfg.source, "ops.instrument"), "src_instrument")
    source = f"{cfg.source.database}.ops.instrument"
    return append_batch(cfg, JOB, spark.sql(LANDED), target="bronze.br_instrument", source=source)

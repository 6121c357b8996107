"""Land the day's trade events from the order system (``ops.trade_event``) in bronze.

Extracts by the day the source recorded an event, so late events for earlier days
arrive with the day they were recorded. Nothing is validated here.
"""

from pyspark.sql import SparkSession

from src._base.pipeline.bronze import append_batch
from src._base.pipeline.frames import read_jdbc, register
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

JOB = "trade_to_bronze"

LANDED = """
SELECT event_id        AS source_event_id,
       trade_id        AS source_trade_id,
       portfolio_code,
       instrument_code,
       action          AS action_code,
       status          AS status_code,
       quantity,
       filled_quantity,
       price,
       event_time,
       coalesce(event_time, TIMESTAMP '{day_start}') AS effective_time
FROM src_trade_event
"""


def run(spark: SparkSession, cfg: RunConfig) -> TransformResult:
    query = f"(SELECT * FROM ops.trade_event WHERE recorded_date = DATE '{cfg.logical_date}') q"
    events = read_jdbc(
        spark, cfg.source, query, partitions=cfg.read_partitions, partition_sql="row_id"
    )
    register(events, "src_trade_event")
    landed = spark.sql(LANDED.format(day_start=f"{cfg.logical_date} 00:00:00"))
    source = f"{cfg.source.database}.ops.trade_event"
    return append_batch(cfg, JOB, landed, target="bronze.br_trade", source=source)

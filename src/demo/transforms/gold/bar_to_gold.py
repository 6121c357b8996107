"""Daily OHLCV bars per instrument from the cleansed minute bars (``gold.daily_bar``)."""

from pyspark.sql import SparkSession

from src._base.pipeline.frames import read_jdbc, register, uuid3_sql
from src._base.pipeline.gold import publish_snapshot, snapshot_params
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

JOB = "bar_to_gold"
INPUTS = ("bar_to_silver",)

DAILY_BAR = """
SELECT {key} AS daily_bar_id,
       DATE '{day}'                              AS business_date,
       instrument_code,
       min_by(open, bar_time)                    AS open,
       max(high)                                 AS high,
       min(low)                                  AS low,
       max_by(close, bar_time)                   AS close,
       sum(volume)                               AS volume,
       CAST(sum(CAST(vwap AS DECIMAL(18, 6)) * volume)
            / nullif(sum(CASE WHEN vwap IS NOT NULL THEN volume END), 0) AS DOUBLE)
                                                 AS vwap,
       count(*)                                  AS bar_count,
       TIMESTAMP '{as_of}'                       AS effective_time
FROM minute_bar
GROUP BY instrument_code
"""


def run(spark: SparkSession, cfg: RunConfig) -> TransformResult:
    params = snapshot_params(cfg)
    query = (
        "(SELECT * FROM silver.minute_bar WHERE bar_time >= DATE '{day}'"
        " AND bar_time < DATE '{day}' + 1) q"
    ).format(**params)
    register(read_jdbc(spark, cfg.warehouse, query), "minute_bar")
    key = uuid3_sql(f"concat_ws('@', 'daily_bar', '{params['day']}', instrument_code)")
    snapshot = spark.sql(DAILY_BAR.format(key=key, **params))
    return publish_snapshot(cfg, JOB, snapshot, "gold.daily_bar", key="daily_bar_id", inputs=INPUTS)

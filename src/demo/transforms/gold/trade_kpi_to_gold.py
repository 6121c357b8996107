"""Daily trading KPIs (``gold.trade_kpi_daily``): counts by state, notional, fill rate,
and how many of the day's events the quarantine holds."""

from pyspark.sql import SparkSession

from src._base.pipeline.frames import read_jdbc, register, uuid3_sql
from src._base.pipeline.gold import publish_snapshot, snapshot_params
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig

JOB = "trade_kpi_to_gold"
INPUTS = ("trade_to_silver",)

KPIS = """
SELECT {key} AS trade_kpi_daily_id,
       DATE '{day}' AS business_date,
       count(t.trade_status_type_id)                                   AS trades,
       count_if(s.code IN ('FILLED', 'AMENDED', 'SETTLED')
                AND t.filled_quantity = t.quantity)                    AS filled,
       count_if(s.code = 'PARTIALLY_FILLED')                           AS partially_filled,
       count_if(s.code = 'CANCELLED')                                  AS cancelled,
       count_if(s.code = 'AMENDED')                                    AS amended,
       count_if(s.code IN ('NEW', 'PARTIALLY_FILLED'))                 AS open_orders,
       coalesce(sum(t.filled_quantity * t.price), 0)                   AS notional,
       sum(t.filled_quantity) / nullif(sum(t.quantity), 0)             AS fill_rate,
       (SELECT count(*) FROM rejected)                                 AS rejected_events,
       TIMESTAMP '{as_of}'                                             AS effective_time
FROM trade t
JOIN trade_status_type s ON s.trade_status_type_id = t.trade_status_type_id
"""


def run(spark: SparkSession, cfg: RunConfig) -> TransformResult:
    params = snapshot_params(cfg)
    trades = (
        "(SELECT trade_status_type_id, quantity, filled_quantity, price FROM silver.trade"
        " WHERE trade_date = DATE '{day}') q"
    ).format(**params)
    rejected = (
        "(SELECT record_key FROM silver.quarantine"
        " WHERE job = 'trade_to_silver' AND logical_date = DATE '{day}') q"
    ).format(**params)
    register(read_jdbc(spark, cfg.warehouse, trades), "trade")
    register(read_jdbc(spark, cfg.warehouse, "common.trade_status_type"), "trade_status_type")
    register(read_jdbc(spark, cfg.warehouse, rejected), "rejected")
    key = uuid3_sql(f"'trade_kpi@{params['day']}'")
    snapshot = spark.sql(KPIS.format(key=key, **params))
    return publish_snapshot(
        cfg, JOB, snapshot, "gold.trade_kpi_daily", key="trade_kpi_daily_id", inputs=INPUTS
    )

"""Cleanse the day's one-minute bars into ``silver.minute_bar``.

Typed, one row per instrument and minute, OHLC invariants enforced; a bar that breaks
a rule goes to the quarantine. Missing minutes are counted (``missing_minutes``), not
invented. The day's bars are replaced as a whole, so a rerun gives the same rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from src._base.pipeline.claims import claim_load
from src._base.pipeline.frames import register, uuid3_sql
from src._base.pipeline.merge import replace_sql
from src._base.pipeline.publish import publication
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src._base.pipeline.shapes import Custom
from src._base.pipeline.silver import (
    publish_rejects,
    register_batch,
    register_tables,
)

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

INPUT = "bar_to_bronze"
INPUTS = (INPUT, "instrument_to_silver")  # bars of unknown instruments are rejected

CHECKED = """
SELECT b.*,
       CASE
         WHEN b.symbol IS NULL OR b.symbol = '' OR b.bar_time IS NULL OR b.open IS NULL
           OR b.high IS NULL OR b.low IS NULL OR b.close IS NULL OR b.volume IS NULL
           THEN 'required_field_null'
         WHEN i.instrument_code IS NULL THEN 'unknown_instrument'
         WHEN to_date(b.bar_time) <> DATE '{day}' THEN 'outside_logical_date'
         WHEN b.volume < 0 OR b.trade_count < 0 THEN 'negative_volume'
         WHEN b.low <= 0 OR b.high < greatest(b.open, b.close)
           OR b.low > least(b.open, b.close) THEN 'ohlc_inconsistent'
         WHEN row_number() OVER (PARTITION BY b.symbol, b.bar_time
                                 ORDER BY b.content_hash, b.br_minute_bar_id) > 1
           THEN 'duplicate_bar'
       END AS rule
FROM br_minute_bar b
LEFT JOIN known_instrument i ON i.instrument_code = b.symbol
"""

BARS = """
SELECT {bar_id} AS minute_bar_id,
       symbol AS instrument_code, bar_time,
       open, high, low, close, volume,
       coalesce(trade_count, 0) AS trade_count,
       vwap,
       bar_time AS effective_time
FROM checked
WHERE rule IS NULL
"""

# Minutes between an instrument's first and last bar that have no valid bar.
MISSING = """
SELECT coalesce(sum(span - bars), 0) AS missing
FROM (SELECT instrument_code,
             (unix_timestamp(max(bar_time)) - unix_timestamp(min(bar_time))) DIV 60 + 1 AS span,
             count(*) AS bars
      FROM bars GROUP BY instrument_code)
"""

REJECTS = """
SELECT concat_ws('@', symbol, cast(bar_time AS STRING)) AS record_key, rule,
       to_json(named_struct('symbol', symbol, 'bar_time', bar_time, 'open', open,
         'high', high, 'low', low, 'close', close, 'volume', volume,
         'source_file', source_file)) AS record
FROM checked WHERE rule IS NOT NULL
"""

COLUMNS = (
    "minute_bar_id",
    "instrument_code",
    "bar_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "trade_count",
    "vwap",
    "effective_time",
)


def load_bars(spark: SparkSession, cfg: RunConfig, name: str) -> TransformResult:
    result = TransformResult(name, "silver")
    with claim_load(cfg, name, inputs=INPUTS) as claim, publication(claim) as pub:
        result.timings = pub.timings  # filled in as the load stages and publishes
        batch = claim.batches[INPUT]
        register_batch(spark, cfg, "bronze.br_minute_bar", batch, "br_minute_bar")
        register_tables(
            spark,
            cfg,
            {"known_instrument": "(SELECT DISTINCT instrument_code FROM silver.instrument_hist) q"},
        )
        checked = register(spark.sql(CHECKED.format(day=cfg.logical_date)).cache(), "checked")
        uid = uuid3_sql("concat_ws('@', symbol, cast(bar_time AS STRING))")
        bars = register(spark.sql(BARS.format(bar_id=uid)), "bars")
        stage = pub.stage(bars, "bars", types={"minute_bar_id": "uuid"})
        result.rejected = publish_rejects(
            pub, spark.sql(REJECTS), "silver.quarantine", "bronze.br_minute_bar"
        )
        day = f"bar_time >= '{cfg.day_start:%Y-%m-%d %H:%M%z}'"
        day += f" AND bar_time < '{cfg.system_time:%Y-%m-%d %H:%M%z}'"
        for sql in replace_sql("silver.minute_bar", stage, COLUMNS, day):
            pub.execute(sql)
        result.notes["missing_minutes"] = int(spark.sql(MISSING).first()["missing"])
        result.rows_read = pub.read = checked.count()
        result.rows_written = pub.written = pub.staged_rows["bars"]
    checked.unpersist()
    return result


TRANSFORM = Custom(
    layer="silver",
    inputs=INPUTS,
    outputs=("silver.minute_bar", "silver.quarantine"),
    run_function=load_bars,
)

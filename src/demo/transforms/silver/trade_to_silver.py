"""Validate the day's trade events, keep each trade's latest state in ``silver.trade``
and its status history in ``silver.trade_status_hist``.

Every event that breaks a rule lands in the quarantine with the rule's name. Of the
valid events, the latest per trade (by event time) becomes the trade's state, unless the
warehouse already holds a newer one: a late event older than what is known changes
nothing. Status versions start at the date's system time, so the history says when the
warehouse learned each state, and ``status_time`` when it happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from src._base.pipeline.claims import Claim, claim_load
from src._base.pipeline.frames import register, uuid3_sql
from src._base.pipeline.merge import temporal_merge_sql
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

INPUT = "trade_to_bronze"
# Trades resolve their instrument and portfolio against silver's master data.
INPUTS = (INPUT, "instrument_to_silver", "portfolio_to_silver")

CHECKED = """
SELECT b.*,
       a.action_type_id,
       s.trade_status_type_id,
       CASE
         WHEN b.source_event_id IS NULL OR b.source_trade_id IS NULL
           OR b.portfolio_code IS NULL OR b.instrument_code IS NULL
           OR b.action_code IS NULL OR b.status_code IS NULL OR b.quantity IS NULL
           OR b.filled_quantity IS NULL OR b.price IS NULL OR b.event_time IS NULL
           THEN 'required_field_null'
         WHEN b.quantity <= 0 OR b.filled_quantity < 0 OR b.filled_quantity > b.quantity
           THEN 'invalid_quantity'
         WHEN b.price <= 0 THEN 'invalid_price'
         WHEN a.action_type_id IS NULL THEN 'unknown_action'
         WHEN s.trade_status_type_id IS NULL THEN 'unknown_status'
         WHEN i.instrument_code IS NULL THEN 'unknown_instrument'
         WHEN p.portfolio_code IS NULL THEN 'unknown_portfolio'
         WHEN lag(b.content_hash) OVER (PARTITION BY b.source_event_id
                                 ORDER BY b.content_hash, b.br_trade_id) = b.content_hash
           THEN 'duplicate_event'
         WHEN min(b.content_hash) OVER (PARTITION BY b.source_event_id)
              <> max(b.content_hash) OVER (PARTITION BY b.source_event_id)
           THEN 'conflicting_event'
       END AS rule
FROM br_trade b
LEFT JOIN action_type a       ON a.code = b.action_code AND a.is_active
LEFT JOIN trade_status_type s ON s.code = b.status_code AND s.is_active
LEFT JOIN known_instrument i  ON i.instrument_code = b.instrument_code
LEFT JOIN known_portfolio p   ON p.portfolio_code = b.portfolio_code
"""

TRADES = """
SELECT {trade_id} AS trade_id,
       source_trade_id,
       to_date(first_event_time) AS trade_date,
       portfolio_code, instrument_code, action_type_id, trade_status_type_id,
       quantity, filled_quantity, price,
       source_event_id AS last_event_id,
       first_event_time,
       event_time AS effective_time
FROM (
  SELECT c.*,
         min(event_time) OVER (PARTITION BY source_trade_id) AS first_event_time,
         row_number() OVER (PARTITION BY source_trade_id
                            ORDER BY event_time DESC, source_event_id DESC) AS newest
  FROM checked c
  WHERE rule IS NULL
)
WHERE newest = 1
"""

REJECTS = """
SELECT coalesce(source_event_id, source_trade_id) AS record_key, rule,
       to_json(named_struct('source_event_id', source_event_id,
         'source_trade_id', source_trade_id, 'portfolio_code', portfolio_code,
         'instrument_code', instrument_code, 'action_code', action_code,
         'status_code', status_code, 'quantity', quantity,
         'filled_quantity', filled_quantity, 'price', price, 'event_time', event_time,
         'br_trade_id', br_trade_id)) AS record
FROM checked WHERE rule IS NOT NULL
"""

# Every code silver has ever held (a delisted instrument's late trades still resolve).
KNOWN = "(SELECT DISTINCT {key} FROM silver.{table}) AS q"

STATE = (
    "portfolio_code",
    "instrument_code",
    "action_type_id",
    "trade_status_type_id",
    "quantity",
    "filled_quantity",
    "price",
    "last_event_id",
    "effective_time",
)
INSERT_COLUMNS = ("trade_id", "source_trade_id", "trade_date", "first_event_time", *STATE)


def upsert_sql(stage: str) -> str:
    """Newer states replace older ones; an older (late) event never overwrites."""
    names = ", ".join(INSERT_COLUMNS)
    sets = ", ".join(f"{c} = excluded.{c}" for c in STATE)
    before = ", ".join(f"t.{c}" for c in STATE)
    after = ", ".join(f"excluded.{c}" for c in STATE)
    return (
        f"INSERT INTO silver.trade AS t ({names}) SELECT {names} FROM {stage}"
        f" ON CONFLICT (source_trade_id) DO UPDATE SET {sets}"
        " WHERE t.effective_time <= excluded.effective_time"
        f" AND ({before}) IS DISTINCT FROM ({after})"
    )


def status_sql(stage: str) -> list[str]:
    current = (
        "(SELECT t.trade_id, t.trade_status_type_id, t.quantity, t.filled_quantity, t.price,"
        f" t.effective_time AS status_time FROM silver.trade t JOIN {stage} s USING (trade_id))"
    )
    columns = ("trade_status_type_id", "quantity", "filled_quantity", "price", "status_time")
    return temporal_merge_sql(
        "silver.trade_status_hist", ("trade_id",), columns, current, delete_missing=False
    )


def load_trades(spark: SparkSession, cfg: RunConfig, name: str) -> TransformResult:
    result = TransformResult(name, "silver")
    with claim_load(cfg, name, inputs=INPUTS, in_order=True) as claim:
        if claim.skipped:
            result.skipped = claim.skipped
            return result
        _publish_trades(spark, claim, result)
    return result


def _publish_trades(spark: SparkSession, claim: Claim, result: TransformResult) -> None:
    cfg = claim.cfg
    with publication(claim) as pub:
        result.timings = pub.timings  # filled in as the load stages and publishes
        register_batch(spark, cfg, "bronze.br_trade", claim.batches[INPUT], "br_trade")
        register_tables(
            spark,
            cfg,
            {
                "action_type": "common.action_type",
                "trade_status_type": "common.trade_status_type",
                "known_instrument": KNOWN.format(key="instrument_code", table="instrument_hist"),
                "known_portfolio": KNOWN.format(key="portfolio_code", table="portfolio_hist"),
            },
        )
        checked = register(spark.sql(CHECKED).cache(), "checked")
        trades = spark.sql(TRADES.format(trade_id=uuid3_sql("source_trade_id")))
        stage = pub.stage(trades, "trades", types={"trade_id": "uuid"})
        result.rejected = publish_rejects(
            pub, spark.sql(REJECTS), "silver.quarantine", "bronze.br_trade"
        )
        pub.execute(upsert_sql(stage))
        for sql in status_sql(stage):
            pub.execute(sql)
        pub.system_time = cfg.system_time
        result.rows_read = pub.read = checked.count()
        result.rows_written = pub.written = pub.staged_rows["trades"]
        result.notes["valid_events"] = pub.read - pub.rejected
    checked.unpersist()


TRANSFORM = Custom(
    layer="silver",
    inputs=INPUTS,
    outputs=("silver.trade", "silver.trade_status_hist", "silver.quarantine"),
    run_function=load_trades,
)

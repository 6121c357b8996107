"""Cleanse the day's one-minute bars into ``silver.minute_bar``.

Typed, one row per instrument and minute, OHLC invariants enforced; a bar that breaks
a rule goes to the quarantine. Missing minutes are counted (``missing_minutes``), not
invented. The day's bars are replaced as a whole, so a rerun gives the same rows.
"""

from __future__ import annotations

from src._base.pipeline.shapes import Read, ReplaceRows, SilverBatchLoad

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
SELECT {key} AS minute_bar_id,
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


# The day's bars (every minute of the logical date) replaced by the staged ones.
PUBLISH = ReplaceRows(
    target="silver.minute_bar",
    step="bars",
    columns=COLUMNS,
    where="bar_time >= CAST('{day_start}+00:00' AS TIMESTAMPTZ)"
    " AND bar_time < CAST('{as_of}+00:00' AS TIMESTAMPTZ)",
)


TRANSFORM = SilverBatchLoad(
    input="bar_to_bronze",
    extra_inputs=("instrument_to_silver",),  # bars of unknown instruments are rejected
    bronze_table="bronze.br_minute_bar",
    bronze_view="br_minute_bar",
    lookups={
        "known_instrument": Read("(SELECT DISTINCT instrument_code FROM silver.instrument_hist) q")
    },
    checked=CHECKED,
    staged={"bars": BARS},
    key="concat_ws('@', symbol, cast(bar_time AS STRING))",
    types={"minute_bar_id": "uuid"},
    rejects=REJECTS,
    notes={"missing_minutes": MISSING},
    publish=PUBLISH,
    outputs=("silver.minute_bar", "silver.quarantine"),
)

"""Daily OHLCV bars per instrument from the cleansed minute bars (``gold.daily_bar``)."""

from src._base.pipeline.shapes import GoldSnapshot, Read

DAILY_BAR = """
SELECT {key} AS daily_bar_id,
       DATE '{day}'                              AS business_date,
       instrument_code,
       CAST(min_by(open, bar_time) AS DECIMAL(18, 6)) AS open,
       CAST(max(high) AS DECIMAL(18, 6))             AS high,
       CAST(min(low) AS DECIMAL(18, 6))              AS low,
       CAST(max_by(close, bar_time) AS DECIMAL(18, 6)) AS close,
       sum(volume)                               AS volume,
       CAST(sum(CAST(vwap AS DECIMAL(18, 6)) * volume)
            / nullif(sum(CASE WHEN vwap IS NOT NULL THEN volume END), 0) AS DECIMAL(18, 6))
                                                 AS vwap,
       count(*)                                  AS bar_count,
       TIMESTAMP '{as_of}'                       AS effective_time
FROM minute_bar
GROUP BY instrument_code
"""

TRANSFORM = GoldSnapshot(
    inputs=("bar_to_silver",),
    reads={
        "minute_bar": Read(
            "silver.minute_bar", where="bar_time >= DATE '{day}' AND bar_time < DATE '{next}'"
        )
    },
    steps={"daily_bar": DAILY_BAR},
    key="concat_ws('@', 'daily_bar', '{day}', instrument_code)",
    target="gold.daily_bar",
    key_column="daily_bar_id",
)

"""Daily OHLCV bars per instrument from the cleansed minute bars (``gold.daily_bar``)."""

from src._base.pipeline.shapes import GoldSnapshot, Read

DAILY_BAR = """
SELECT DATE '{day}'                              AS business_date,
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
       TIMESTAMP '{known_at}'                    AS known_at
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
    target="gold.daily_bar_hist",
    keys=("business_date", "instrument_code"),
)

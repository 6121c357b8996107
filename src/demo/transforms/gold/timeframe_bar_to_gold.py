"""The day's minute bars rolled up to 5m, 15m, 1h and 1d bars (``gold.bar``).

Each minute goes to the bar whose grid interval holds it, rolled up as the daily bars are
(:mod:`._ohlcv`).
"""

from src._base.pipeline.shapes import GoldSnapshot, Read
from src.demo.transforms.gold._ohlcv import OHLCV

MINUTES = """
SELECT instrument_code, bar_time, open, high, low, close, volume, vwap,
       date_trunc('HOUR', bar_time)                     AS hour_start,
       CAST(extract(MINUTE FROM bar_time) AS INT)       AS minute_of_hour
FROM minute_bar
"""

FRAMED = """
SELECT '5m' AS timeframe, hour_start + make_interval(0, 0, 0, 0, 0,
           CAST(minute_of_hour DIV 5 * 5 AS INT), 0) AS bucket, m.*
FROM minutes m
UNION ALL
SELECT '15m' AS timeframe, hour_start + make_interval(0, 0, 0, 0, 0,
           CAST(minute_of_hour DIV 15 * 15 AS INT), 0) AS bucket, m.*
FROM minutes m
UNION ALL
SELECT '1h' AS timeframe, hour_start AS bucket, m.* FROM minutes m
UNION ALL
SELECT '1d' AS timeframe, CAST(DATE '{day}' AS TIMESTAMP) AS bucket, m.* FROM minutes m
"""

BAR = (
    """
SELECT DATE '{day}'                                        AS business_date,
       timeframe,
       instrument_code,
       bucket                                              AS bar_time,"""
    + OHLCV
    + """
       TIMESTAMP '{known_at}'                              AS known_at
FROM framed
GROUP BY timeframe, instrument_code, bucket
"""
)

TRANSFORM = GoldSnapshot(
    inputs=("bar_to_silver",),
    reads={
        "minute_bar": Read(
            "silver.minute_bar", where="bar_time >= DATE '{day}' AND bar_time < DATE '{next}'"
        )
    },
    steps={"minutes": MINUTES, "framed": FRAMED, "bar": BAR},
    target="gold.bar_hist",
    keys=("business_date", "timeframe", "instrument_code", "bar_time"),
)

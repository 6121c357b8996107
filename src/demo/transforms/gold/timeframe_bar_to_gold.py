"""The day's minute bars rolled up to 5m, 15m, 1h and 1d bars (``gold.bar``).

Each minute goes to the bar whose grid interval holds it; the bar keeps the first open
and last close (by minute), the highest high, the lowest low, the summed volume and the
volume-weighted VWAP of the minutes that have one.
"""

from src._base.pipeline.shapes import GoldSnapshot, Read

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

BAR = """
SELECT DATE '{day}'                                        AS business_date,
       timeframe,
       instrument_code,
       bucket                                              AS bar_time,
       CAST(min_by(open, bar_time) AS DECIMAL(18, 6))      AS open,
       CAST(max(high) AS DECIMAL(18, 6))                   AS high,
       CAST(min(low) AS DECIMAL(18, 6))                    AS low,
       CAST(max_by(close, bar_time) AS DECIMAL(18, 6))     AS close,
       sum(volume)                                         AS volume,
       CAST(sum(CAST(vwap AS DECIMAL(18, 6)) * volume)
            / nullif(sum(CASE WHEN vwap IS NOT NULL THEN volume END), 0) AS DECIMAL(18, 6))
                                                           AS vwap,
       count(*)                                            AS bar_count,
       TIMESTAMP '{known_at}'                              AS known_at
FROM framed
GROUP BY timeframe, instrument_code, bucket
"""

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

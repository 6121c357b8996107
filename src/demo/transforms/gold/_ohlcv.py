"""The OHLCV roll-up of minute bars that every gold bar table shares (a fragment of a
SELECT list over columns ``bar_time, open, high, low, close, volume, vwap``): the first
open and last close by minute, the highest high, the lowest low, the summed volume, the
volume-weighted VWAP of the minutes that have one, and how many minutes there were."""

OHLCV = """
       CAST(min_by(open, bar_time) AS DECIMAL(18, 6))      AS open,
       CAST(max(high) AS DECIMAL(18, 6))                   AS high,
       CAST(min(low) AS DECIMAL(18, 6))                    AS low,
       CAST(max_by(close, bar_time) AS DECIMAL(18, 6))     AS close,
       sum(volume)                                         AS volume,
       CAST(sum(CAST(vwap AS DECIMAL(18, 6)) * volume)
            / nullif(sum(CASE WHEN vwap IS NOT NULL THEN volume END), 0) AS DECIMAL(18, 6))
                                                           AS vwap,
       count(*)                                            AS bar_count,"""

"""Daily OHLCV bars per instrument from the cleansed minute bars (``gold.daily_bar``)."""

from src._base.pipeline.shapes import GoldSnapshot, Read
from src.demo.transforms.gold._ohlcv import OHLCV

DAILY_BAR = (
    """
SELECT DATE '{day}'                              AS business_date,
       instrument_code,"""
    + OHLCV
    + """
       TIMESTAMP '{known_at}'                    AS known_at
FROM minute_bar
GROUP BY instrument_code
"""
)

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

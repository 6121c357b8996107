"""End-of-day positions per portfolio and instrument (``gold.position_eod``).

A position is the signed filled quantity of every trade placed up to the day (BUY and
COVER add, SELL and SHORT subtract), valued at the instrument's latest daily close up
to the day. Flat positions are left out.
"""

from src._base.pipeline.shapes import GoldSnapshot, Read

POSITIONS = """
WITH position AS (
  SELECT t.portfolio_code, t.instrument_code,
         sum(a.position_sign * t.filled_quantity) AS quantity
  FROM trade t
  JOIN action_type a ON a.action_type_id = t.action_type_id
  WHERE t.trade_date <= DATE '{day}'
  GROUP BY t.portfolio_code, t.instrument_code
),
last_close AS (
  SELECT instrument_code, max_by(close, business_date) AS close_price
  FROM daily_bar
  WHERE business_date <= DATE '{day}'
  GROUP BY instrument_code
)
SELECT {key} AS position_eod_id,
       DATE '{day}' AS business_date,
       p.portfolio_code,
       p.instrument_code,
       i.currency_code,
       p.quantity,
       c.close_price,
       CAST(p.quantity * c.close_price AS DECIMAL(24, 6)) AS market_value,
       TIMESTAMP '{as_of}' AS effective_time
FROM position p
JOIN instrument i ON i.instrument_code = p.instrument_code
LEFT JOIN last_close c ON c.instrument_code = p.instrument_code
WHERE p.quantity <> 0
"""

# Silver as the warehouse knew it at the date's system time: rerunning a date later gives
# the same snapshot, whatever later days amended. (Formatted with the run's parameters.)
AS_OF = "TIMESTAMPTZ '{as_of}+00'"

# Each instrument's latest version as of the date (delisted ones included): its currency.
INSTRUMENT = f"""(SELECT DISTINCT ON (h.instrument_code) h.instrument_code,
    c.iso_code AS currency_code
  FROM silver.instrument_hist h JOIN common.currency_type c USING (currency_type_id)
  WHERE h.sys_start <= {AS_OF}
  ORDER BY h.instrument_code, h.sys_start DESC) q"""


def trades_as_of(trade_dates: str) -> str:
    """Every trade's state as of the date, for trade dates matching ``trade_dates`` (its
    trade date never changes once known)."""
    return f"""(SELECT t.trade_date, h.portfolio_code, h.instrument_code, h.action_type_id,
    h.filled_quantity, h.price, h.quantity, h.trade_status_type_id
  FROM silver.trade_status__as_of({AS_OF}) h JOIN silver.trade t USING (trade_id)
  WHERE t.trade_date {trade_dates}) q"""


# What positions and values read: trades up to the day, closes, each instrument's currency.
READS = {
    "trade": Read(trades_as_of("<= DATE '{day}'"), partition_sql="hashtext(instrument_code)"),
    "action_type": Read("common.action_type"),
    "daily_bar": Read("gold.daily_bar"),
    "instrument": Read(INSTRUMENT),
}  # fmt: skip

TRANSFORM = GoldSnapshot(
    inputs=("trade_to_silver", "instrument_to_silver", "bar_to_gold"),
    reads=READS,
    steps={"positions": POSITIONS},
    key="concat_ws('@', 'position', '{day}', p.portfolio_code, p.instrument_code)",
    target="gold.position_eod",
    key_column="position_eod_id",
)

"""End-of-day positions per portfolio and instrument (``gold.position_eod_hist``).

A position is the signed filled quantity of every trade placed up to the day (BUY and
COVER add, SELL and SHORT subtract), valued at the instrument's latest daily close up
to the day. Flat positions are left out.

The cost does not grow with history: the day starts from the latest earlier day's gold
positions (the *base*, as known at ``{known_at}``) and adds what changed since the base's
own knowledge time: the trade versions opened (+) and closed (-) in between for trades
placed up to the base date, and the state of the trades placed after it. With no base
(the first day), the same query adds up every trade. The module's fragments are shared
with ``portfolio_value_to_gold``.
"""

from src._base.pipeline.shapes import GoldSnapshot, Read

# Silver and gold as the warehouse knew them at the run's knowledge time: the date's
# system time (a rerun reproduces what was reported) or a restatement's.
KNOWN_AT = "TIMESTAMPTZ '{known_at}+00'"

# The base: the latest earlier day with gold positions, and the time they were known at.
BASE = f"""(SELECT p.business_date AS b, p.known_at AS k
  FROM gold.position_eod__as_of({KNOWN_AT}) p
  WHERE p.business_date < DATE '{{day}}' AND p.known_at <= {KNOWN_AT}
  ORDER BY p.business_date DESC LIMIT 1)"""

# The day the previous value is taken at: the base's, or the calendar day before.
PREV_DAY = f"coalesce((SELECT b FROM {BASE} x), DATE '{{prev}}')"

BASE_POSITIONS = f"""(SELECT p.portfolio_code, p.instrument_code, p.quantity
  FROM gold.position_eod__as_of({KNOWN_AT}) p
  WHERE p.business_date = (SELECT b FROM {BASE} x)) q"""

_CHANGE_COLUMNS = "portfolio_code, instrument_code, action_type_id, filled_quantity, trade_date"

# One row per trade version that moves a position since the base, with its direction;
# trades placed after the base count whole, in their state as known. Each branch is an
# index range (sys_start, closed sys_end, trade_date) over silver.trade_status_hist.
CHANGES = f"""(WITH base AS {BASE}
SELECT {_CHANGE_COLUMNS}, 1 AS direction FROM silver.trade_status_hist
  WHERE sys_start > (SELECT k FROM base) AND sys_start <= {KNOWN_AT}
    AND trade_date <= (SELECT b FROM base)
UNION ALL
SELECT {_CHANGE_COLUMNS}, -1 AS direction FROM silver.trade_status_hist
  WHERE sys_end > (SELECT k FROM base) AND sys_end <= {KNOWN_AT} AND sys_end <> 'infinity'
    AND trade_date <= (SELECT b FROM base)
UNION ALL
SELECT {_CHANGE_COLUMNS}, 1 AS direction FROM silver.trade_status_hist
  WHERE trade_date <= DATE '{{day}}'
    AND trade_date > coalesce((SELECT b FROM base), DATE '-infinity')
    AND sys_start <= {KNOWN_AT} AND sys_end > {KNOWN_AT}) q"""


def _close(up_to: str) -> str:
    """An instrument's latest daily close up to a day, as known (one index probe)."""
    return f"""(SELECT d.close FROM gold.daily_bar_hist d
    WHERE d.instrument_code = i.instrument_code AND d.business_date <= {up_to}
      AND d.sys_start <= {KNOWN_AT} AND d.sys_end > {KNOWN_AT}
    ORDER BY d.business_date DESC LIMIT 1)"""


# Each instrument as of the knowledge time (delisted ones too): its currency and its
# closes at the day and at the previous day.
INSTRUMENT = f"""(SELECT i.instrument_code, c.iso_code AS currency_code,
    {_close("DATE '{day}'")} AS close_price,
    {_close(PREV_DAY)} AS prev_close_price
  FROM (SELECT DISTINCT ON (h.instrument_code) h.instrument_code, h.currency_type_id
        FROM silver.instrument_hist h WHERE h.sys_start <= {KNOWN_AT}
        ORDER BY h.instrument_code, h.sys_start DESC) i
  JOIN common.currency_type c USING (currency_type_id)) q"""

# The trades placed on the day, in their state as known (values and KPIs read them).
DAY_TRADES = f"""(SELECT portfolio_code, instrument_code, action_type_id, quantity,
    filled_quantity, price, trade_status_type_id
  FROM silver.trade_status__as_of({KNOWN_AT}) WHERE trade_date = DATE '{{day}}') q"""

# What positions and values read.
READS = {
    "base": Read(BASE_POSITIONS),
    "changes": Read(CHANGES, partition_sql="hashtext(instrument_code)"),
    "prev_day": Read(f"(SELECT {PREV_DAY} AS d) q"),
    "action_type": Read("common.action_type"),
    "instrument": Read(INSTRUMENT),
}  # fmt: skip

# Positions at the day (quantity) and at the previous day as known now (prev_quantity):
# the base plus the moves of trades placed up to each day.
POSITION_CTE = """
moved AS (
  SELECT c.portfolio_code, c.instrument_code,
         c.direction * a.position_sign * c.filled_quantity AS quantity,
         CASE WHEN c.trade_date <= pd.d THEN c.direction * a.position_sign * c.filled_quantity
         END AS prev_quantity
  FROM changes c
  JOIN action_type a ON a.action_type_id = c.action_type_id
  CROSS JOIN prev_day pd
),
position AS (
  SELECT x.portfolio_code, x.instrument_code,
         sum(x.quantity) AS quantity, sum(x.prev_quantity) AS prev_quantity
  FROM (SELECT portfolio_code, instrument_code, quantity, quantity AS prev_quantity FROM base
        UNION ALL
        SELECT portfolio_code, instrument_code, quantity, prev_quantity FROM moved) x
  GROUP BY x.portfolio_code, x.instrument_code
)"""

POSITIONS = f"""
WITH {POSITION_CTE}
SELECT DATE '{{day}}' AS business_date,
       p.portfolio_code,
       p.instrument_code,
       i.currency_code,
       CAST(p.quantity AS DECIMAL(20, 4)) AS quantity,
       i.close_price,
       CAST(p.quantity * i.close_price AS DECIMAL(24, 6)) AS market_value,
       TIMESTAMP '{{known_at}}' AS known_at
FROM position p
JOIN instrument i ON i.instrument_code = p.instrument_code
WHERE p.quantity <> 0
"""

TRANSFORM = GoldSnapshot(
    inputs=("trade_to_silver", "instrument_to_silver", "bar_to_gold"),
    reads=READS,
    steps={"positions": POSITIONS},
    target="gold.position_eod_hist",
    keys=("business_date", "portfolio_code", "instrument_code"),
)

"""Market value and daily P&L per portfolio and currency (``gold.portfolio_value_daily_hist``).

``pnl = market_value - prev_market_value - net_trade_cash``: the change in value not
explained by money put in (buys) or taken out (sells) through the day's fills. Both days'
positions are taken as known now (a late amendment of yesterday's trade moves yesterday's
value too, not today's P&L), from the same base and changes as ``position_to_gold``, so
the cost does not grow with history. The previous day is the base's (the latest earlier
day with gold positions), or the calendar day before on the first day.
"""

from src._base.pipeline.shapes import GoldSnapshot, Read
from src.demo.transforms.gold.position_to_gold import DAY_TRADES, POSITION_CTE, READS

VALUES = f"""
WITH {POSITION_CTE},
value AS (
  SELECT p.portfolio_code, i.currency_code,
         count_if(p.quantity <> 0) AS positions,
         sum(p.quantity * coalesce(i.close_price, 0)) AS market_value,
         sum(coalesce(p.prev_quantity, 0) * coalesce(i.prev_close_price, 0)) AS prev_market_value
  FROM position p
  JOIN instrument i ON i.instrument_code = p.instrument_code
  GROUP BY p.portfolio_code, i.currency_code
),
cash AS (
  SELECT t.portfolio_code, i.currency_code,
         sum(a.position_sign * t.filled_quantity * t.price) AS net_trade_cash
  FROM day_trade t
  JOIN action_type a ON a.action_type_id = t.action_type_id
  JOIN instrument i ON i.instrument_code = t.instrument_code
  GROUP BY t.portfolio_code, i.currency_code
)
SELECT DATE '{{day}}' AS business_date,
       v.portfolio_code,
       v.currency_code,
       v.positions,
       CAST(coalesce(v.market_value, 0) AS DECIMAL(24, 6)) AS market_value,
       CAST(coalesce(v.prev_market_value, 0) AS DECIMAL(24, 6)) AS prev_market_value,
       CAST(coalesce(c.net_trade_cash, 0) AS DECIMAL(24, 6)) AS net_trade_cash,
       CAST(coalesce(v.market_value, 0) - coalesce(v.prev_market_value, 0)
            - coalesce(c.net_trade_cash, 0) AS DECIMAL(24, 6)) AS pnl,
       TIMESTAMP '{{known_at}}' AS known_at
FROM value v
LEFT JOIN cash c ON c.portfolio_code = v.portfolio_code AND c.currency_code = v.currency_code
"""

TRANSFORM = GoldSnapshot(
    inputs=("trade_to_silver", "instrument_to_silver", "bar_to_gold", "position_to_gold"),
    reads={**READS, "day_trade": Read(DAY_TRADES)},
    steps={"values": VALUES},
    target="gold.portfolio_value_daily_hist",
    keys=("business_date", "portfolio_code", "currency_code"),
)

"""Market value and daily P&L per portfolio and currency (``gold.portfolio_value_daily``).

``pnl = market_value - prev_market_value - net_trade_cash``: the change in value not
explained by money put in (buys) or taken out (sells) through the day's fills. Both
days are valued from silver trades and gold daily closes here, so the snapshot does not
depend on yesterday's gold rows having been computed.
"""

from src._base.pipeline.shapes import GoldSnapshot
from src.demo.transforms.gold.position_to_gold import READS

VALUES = """
WITH day AS (
  SELECT DATE '{day}' AS d UNION ALL SELECT DATE '{prev}'
),
position AS (
  SELECT day.d, t.portfolio_code, t.instrument_code,
         sum(a.position_sign * t.filled_quantity) AS quantity
  FROM trade t
  JOIN action_type a ON a.action_type_id = t.action_type_id
  JOIN day ON t.trade_date <= day.d
  GROUP BY day.d, t.portfolio_code, t.instrument_code
),
last_close AS (
  SELECT day.d, b.instrument_code, max_by(b.close, b.business_date) AS close_price
  FROM daily_bar b JOIN day ON b.business_date <= day.d
  GROUP BY day.d, b.instrument_code
),
valued AS (
  SELECT p.d, p.portfolio_code, i.currency_code, p.quantity,
         p.quantity * coalesce(c.close_price, 0) AS market_value
  FROM position p
  JOIN instrument i ON i.instrument_code = p.instrument_code
  LEFT JOIN last_close c ON c.d = p.d AND c.instrument_code = p.instrument_code
),
value AS (
  SELECT portfolio_code, currency_code,
         count_if(d = DATE '{day}' AND quantity <> 0)          AS positions,
         sum(CASE WHEN d = DATE '{day}' THEN market_value END)  AS market_value,
         sum(CASE WHEN d = DATE '{prev}' THEN market_value END) AS prev_market_value
  FROM valued
  GROUP BY portfolio_code, currency_code
),
cash AS (
  SELECT t.portfolio_code, i.currency_code,
         sum(a.position_sign * t.filled_quantity * t.price) AS net_trade_cash
  FROM trade t
  JOIN action_type a ON a.action_type_id = t.action_type_id
  JOIN instrument i ON i.instrument_code = t.instrument_code
  WHERE t.trade_date = DATE '{day}'
  GROUP BY t.portfolio_code, i.currency_code
)
SELECT {key} AS portfolio_value_daily_id,
       DATE '{day}' AS business_date,
       v.portfolio_code,
       v.currency_code,
       v.positions,
       CAST(coalesce(v.market_value, 0) AS DECIMAL(24, 6)) AS market_value,
       CAST(coalesce(v.prev_market_value, 0) AS DECIMAL(24, 6)) AS prev_market_value,
       CAST(coalesce(c.net_trade_cash, 0) AS DECIMAL(24, 6)) AS net_trade_cash,
       CAST(coalesce(v.market_value, 0) - coalesce(v.prev_market_value, 0)
            - coalesce(c.net_trade_cash, 0) AS DECIMAL(24, 6)) AS pnl,
       TIMESTAMP '{as_of}' AS effective_time
FROM value v
LEFT JOIN cash c ON c.portfolio_code = v.portfolio_code AND c.currency_code = v.currency_code
"""

TRANSFORM = GoldSnapshot(
    inputs=("trade_to_silver", "instrument_to_silver", "bar_to_gold"),
    reads=READS,
    steps={"values": VALUES},
    key="concat_ws('@', 'portfolio_value', '{day}', v.portfolio_code, v.currency_code)",
    target="gold.portfolio_value_daily",
    key_column="portfolio_value_daily_id",
)

"""Daily trading KPIs (``gold.trade_kpi_daily``): counts by state, notional, fill rate,
and how many of the day's events the quarantine holds."""

from src._base.pipeline.shapes import GoldSnapshot, Read
from src.demo.transforms.gold.position_to_gold import DAY_TRADES

KPIS = """
SELECT DATE '{day}' AS business_date,
       count(t.trade_status_type_id)                                   AS trades,
       count_if(s.code IN ('FILLED', 'AMENDED', 'SETTLED')
                AND t.filled_quantity = t.quantity)                    AS filled,
       count_if(s.code = 'PARTIALLY_FILLED')                           AS partially_filled,
       count_if(s.code = 'CANCELLED')                                  AS cancelled,
       count_if(s.code = 'AMENDED')                                    AS amended,
       count_if(s.code IN ('NEW', 'PARTIALLY_FILLED'))                 AS open_orders,
       CAST(coalesce(sum(t.filled_quantity * t.price), 0) AS DECIMAL(24, 6)) AS notional,
       CAST(sum(t.filled_quantity) / nullif(sum(t.quantity), 0) AS DECIMAL(9, 6)) AS fill_rate,
       (SELECT count(*) FROM rejected)                                 AS rejected_events,
       TIMESTAMP '{known_at}'                                          AS known_at
FROM trade t
JOIN trade_status_type s ON s.trade_status_type_id = t.trade_status_type_id
"""

TRANSFORM = GoldSnapshot(
    inputs=("trade_to_silver",),
    reads={
        "trade": Read(DAY_TRADES),
        "trade_status_type": Read("common.trade_status_type"),
        "rejected": Read(
            "silver.quarantine",
            columns=("record_key",),
            where="job = 'trade_to_silver' AND logical_date = DATE '{day}'",
        ),
    },
    steps={"kpis": KPIS},
    target="gold.trade_kpi_daily_hist",
    keys=("business_date",),
)

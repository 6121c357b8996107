"""Airflow DAG: gold for the demo warehouse: daily bars, positions, value and P&L, KPIs.

Starts when ``demo_silver`` publishes dates (so only after silver's checks passed) and
rebuilds each date's snapshots.
"""

from src._base.quality.rules import ControlTotal, KpiBounds, NotNull, RowCountDelta
from src.orchestration.dag_factory import QualityTask, dag_factory, layer_asset

# Silver as of the date's system time (midnight after it, UTC), as gold reads it.
SILVER_AS_OF = """silver.trade_status__as_of((%(day)s::date + 1)::timestamp AT TIME ZONE 'UTC')
    h JOIN silver.trade t USING (trade_id)"""
SILVER_NOTIONAL = f"""SELECT sum(h.filled_quantity * h.price) FROM {SILVER_AS_OF}
    WHERE t.trade_date = %(day)s"""
GOLD_NOTIONAL = "SELECT notional FROM gold.trade_kpi_daily WHERE business_date = %(day)s"
SILVER_POSITION = f"""SELECT sum(a.position_sign * h.filled_quantity) FROM {SILVER_AS_OF}
    JOIN common.action_type a ON a.action_type_id = h.action_type_id
    WHERE t.trade_date <= %(day)s"""
GOLD_POSITION = "SELECT sum(quantity) FROM gold.position_eod WHERE business_date = %(day)s"
BAR_INSTRUMENTS = """SELECT count(DISTINCT instrument_code) FROM silver.minute_bar
    WHERE bar_time >= %(day)s::date AND bar_time < %(day)s::date + 1"""

dag = dag_factory(
    dag_id="demo_gold",
    database="demo",
    schedule=[layer_asset("demo", "silver")],
    doc_md=__doc__,
    tasks=[
        QualityTask(
            "dq_kpi_control_total",
            after=["trade_kpi_to_gold"],
            checks=[
                ControlTotal("notional silver vs gold", SILVER_NOTIONAL, GOLD_NOTIONAL, 0.01),
                KpiBounds(
                    "fill rate",
                    "SELECT fill_rate FROM gold.trade_kpi_daily WHERE business_date = %(day)s",
                    low=0.2,
                    high=1.0,
                ),
            ],
        ),
        QualityTask(
            "dq_position_control_total",
            after=["position_to_gold"],
            checks=[
                ControlTotal("position quantity silver vs gold", SILVER_POSITION, GOLD_POSITION)
            ],
        ),
        QualityTask(
            "dq_bar_row_count",
            after=["bar_to_gold"],
            checks=[
                RowCountDelta(
                    "gold.daily_bar", "business_date", tolerance=0, baseline=BAR_INSTRUMENTS
                )
            ],
        ),
        QualityTask(
            "dq_portfolio_value_nulls",
            after=["portfolio_value_to_gold"],
            checks=[
                NotNull(
                    "gold.portfolio_value_daily",
                    ("market_value", "pnl"),
                    key="portfolio_code || '/' || currency_code",
                    where="business_date = %(day)s",
                )
            ],
        ),
    ],
)

"""Airflow DAG: silver for the demo warehouse: validate, quarantine, keep history.

Starts when ``demo_bronze`` publishes dates and processes exactly those, in order. Its
quality tasks must pass before ``demo_silver`` is published and gold may run.
"""

from src._base.quality.rules import (
    AcceptedValues,
    ControlTotal,
    KpiBounds,
    NotNull,
    ReferentialIntegrity,
    RowCondition,
    Unique,
)
from src.orchestration.dag_factory import QualityTask, dag_factory, layer_asset

# Bronze events of the day that silver accepted (not in the quarantine).
ACCEPTED_WHERE = """b.logical_date = %(day)s AND NOT EXISTS (
    SELECT 1 FROM silver.quarantine q WHERE q.job = 'trade_to_silver'
    AND q.logical_date = b.logical_date AND (q.record ->> 'br_trade_id')::uuid = b.br_trade_id)"""

# The newest accepted event of each trade against the state silver keeps for it.
BRONZE_AMOUNT = f"""SELECT sum(e.filled_quantity * e.price) FROM (
    SELECT DISTINCT ON (b.source_trade_id) b.source_trade_id, b.source_event_id,
           b.filled_quantity, b.price
    FROM bronze.br_trade b WHERE {ACCEPTED_WHERE}
    ORDER BY b.source_trade_id, b.event_time DESC, b.source_event_id DESC) e
    JOIN silver.trade t ON t.source_trade_id = e.source_trade_id
                       AND t.last_event_id = e.source_event_id"""
SILVER_AMOUNT = """SELECT sum(t.filled_quantity * t.price) FROM silver.trade t
    WHERE t.last_event_id IN (SELECT source_event_id FROM bronze.br_trade
                              WHERE logical_date = %(day)s)"""
REJECT_SHARE = """SELECT (SELECT count(*) FROM silver.quarantine WHERE job = 'trade_to_silver'
    AND logical_date = %(day)s)::numeric
    / nullif((SELECT count(*) FROM bronze.br_trade WHERE logical_date = %(day)s), 0)"""
TRADE_OF_DAY = "trade_date = %(day)s"
REACHED_SILVER = "EXISTS (SELECT 1 FROM silver.trade t WHERE t.source_trade_id = b.source_trade_id)"

dag = dag_factory(
    dag_id="demo_silver",
    database="demo",
    schedule=[layer_asset("demo", "bronze")],
    doc_md=__doc__,
    tasks=[
        QualityTask(
            "dq_trade_nulls",
            after=["trade_to_silver"],
            checks=[
                NotNull(
                    "silver.trade",
                    ("portfolio_code", "instrument_code", "quantity", "price"),
                    key="source_trade_id",
                    where=TRADE_OF_DAY,
                ),
                Unique("silver.trade", ("source_trade_id",)),
                AcceptedValues(
                    "silver.trade",
                    "trade_status_type_id",
                    (1, 2, 3, 4, 5, 6),
                    key="source_trade_id",
                    where=TRADE_OF_DAY,
                ),
            ],
        ),
        QualityTask(
            "dq_trade_integrity",
            after=["trade_to_silver"],
            checks=[
                ReferentialIntegrity(
                    "silver.trade",
                    "instrument_code",
                    "silver.instrument_hist.instrument_code",
                    where=TRADE_OF_DAY,
                ),
                RowCondition(
                    "every accepted bronze trade reached silver",
                    "bronze.br_trade b",
                    REACHED_SILVER,
                    key="b.source_event_id",
                    where=ACCEPTED_WHERE,
                ),
                ControlTotal("trade amount bronze vs silver", BRONZE_AMOUNT, SILVER_AMOUNT),
            ],
        ),
        QualityTask(
            "dq_trade_reject_rate",
            after=["trade_to_silver"],
            checks=[KpiBounds("share of trade events quarantined", REJECT_SHARE, high=0.1)],
        ),
        QualityTask(
            "dq_bar_ohlc",
            after=["bar_to_silver"],
            checks=[
                RowCondition(
                    "ohlc invariants",
                    "silver.minute_bar",
                    "low <= least(open, close) AND high >= greatest(open, close) AND volume >= 0",
                    key="instrument_code || '@' || bar_time",
                    where="bar_time >= %(day)s::date AND bar_time < %(day)s::date + 1",
                ),
            ],
        ),
        QualityTask(
            "dq_instrument_current",
            after=["instrument_to_silver"],
            checks=[
                Unique("silver.instrument_hist", ("instrument_code",), where="sys_end = 'infinity'")
            ],
        ),
    ],
)

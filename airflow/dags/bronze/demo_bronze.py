"""Airflow DAG: bronze for the demo warehouse: land the day's sources, append-only.

Runs daily after the day ends (its logical date is the day it loads); publishes the
``demo_bronze`` asset with the dates it completed, which starts ``demo_silver``.
"""

from src._base.quality.rules import Freshness, KpiBounds, RowCountDelta
from src.orchestration.dag_factory import QualityTask, dag_factory

dag = dag_factory(
    dag_id="demo_bronze",
    database="demo",
    schedule="@daily",
    doc_md=__doc__,
    tasks=[
        QualityTask(
            "dq_trade_row_count",
            after=["trade_to_bronze"],
            checks=[
                KpiBounds(
                    "trade events landed",
                    "SELECT count(*) FROM bronze.br_trade WHERE logical_date = %(day)s",
                    low=1,
                ),
                RowCountDelta("bronze.br_trade", "logical_date", tolerance=0.5, severity="warn"),
            ],
        ),
        QualityTask(
            "dq_instrument_row_count",
            after=["instrument_to_bronze"],
            checks=[
                KpiBounds(
                    "instruments landed",
                    "SELECT count(*) FROM bronze.br_instrument WHERE logical_date = %(day)s",
                    low=1,
                ),
                Freshness(
                    "bronze.br_instrument",
                    "load_time",
                    "36 hours",
                    where="logical_date = %(day)s",
                    severity="warn",
                ),
            ],
        ),
    ],
)

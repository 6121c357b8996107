"""Airflow DAG: the minute price collector for the demo warehouse (an option).

Runs every minute and stores the price of each symbol in MEDALLION_COLLECT_SYMBOLS
(``BTCUSDT,ETHUSDT``) for that minute in ``bronze.br_price``; a run that starts late
stores its minute as a gap. Paused when Airflow first sees it: unpause it to collect.
``scripts/marketdata.py collect`` does the same as a long-running command.
"""

from src.orchestration.dag_factory import price_collector_dag

dag = price_collector_dag(dag_id="demo_prices", database="demo", doc_md=__doc__)

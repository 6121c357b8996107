"""Land the day's trade events from the order system (``ops.trade_event``) in bronze.

Extracts by the day the source recorded an event, so late events for earlier days
arrive with the day they were recorded. Nothing is validated here.
"""

from src._base.pipeline.shapes import BronzeAppend, SourceTable

LANDED = """
SELECT event_id        AS source_event_id,
       trade_id        AS source_trade_id,
       portfolio_code,
       instrument_code,
       action          AS action_code,
       status          AS status_code,
       quantity,
       filled_quantity,
       price,
       event_time,
       coalesce(event_time, TIMESTAMP '{day_start}') AS effective_time
FROM source
"""

TRANSFORM = BronzeAppend(
    source=SourceTable(
        "ops.trade_event",
        where="recorded_date = DATE '{day}'",
        partition_sql="row_id",
        source="operational",
    ),
    landed=LANDED,
    target="bronze.br_trade",
)

"""Validate the day's trade events, keep each trade's latest state in ``silver.trade``
and its status history in ``silver.trade_status_hist``.

Every event that breaks a rule lands in the quarantine with the rule's name. Of the
valid events, the latest per trade (by event time) becomes the trade's state, unless the
warehouse already holds a newer one: a late event older than what is known changes
nothing. Status versions start at the date's system time, so the history says when the
warehouse learned each state, and ``status_time`` when it happened.
"""

from __future__ import annotations

from src._base.pipeline.shapes import (
    MergeHistory,
    Publications,
    Read,
    SilverBatchLoad,
    UpsertRows,
)

# Events whose id arrives more than once: found with one hash aggregate, and only those
# rows ranked (a window over the whole batch sorted a million rows to find a few thousand).
REPEATED = """
SELECT br_trade_id,
       lag(content_hash) OVER (PARTITION BY source_event_id
                               ORDER BY content_hash, br_trade_id) = content_hash AS copy,
       min(content_hash) OVER (PARTITION BY source_event_id)
         <> max(content_hash) OVER (PARTITION BY source_event_id) AS conflicting
FROM br_trade
WHERE source_event_id IN (SELECT source_event_id FROM br_trade
                          GROUP BY source_event_id HAVING count(*) > 1)
"""

# Only the columns later steps read (not the load metadata or the 64-character content
# hash): the checked batch is a table of a million rows, sorted once by trade.
CHECKED = """
SELECT b.br_trade_id, b.source_event_id, b.source_trade_id, b.portfolio_code,
       b.instrument_code, b.action_code, b.status_code, b.quantity, b.filled_quantity,
       b.price, b.event_time,
       a.action_type_id,
       s.trade_status_type_id,
       CASE
         WHEN b.source_event_id IS NULL OR b.source_trade_id IS NULL
           OR b.portfolio_code IS NULL OR b.instrument_code IS NULL
           OR b.action_code IS NULL OR b.status_code IS NULL OR b.quantity IS NULL
           OR b.filled_quantity IS NULL OR b.price IS NULL OR b.event_time IS NULL
           THEN 'required_field_null'
         WHEN b.quantity <= 0 OR b.filled_quantity < 0 OR b.filled_quantity > b.quantity
           THEN 'invalid_quantity'
         WHEN b.price <= 0 THEN 'invalid_price'
         WHEN a.action_type_id IS NULL THEN 'unknown_action'
         WHEN s.trade_status_type_id IS NULL THEN 'unknown_status'
         WHEN i.instrument_code IS NULL THEN 'unknown_instrument'
         WHEN p.portfolio_code IS NULL THEN 'unknown_portfolio'
         WHEN r.copy THEN 'duplicate_event'
         WHEN r.conflicting THEN 'conflicting_event'
       END AS rule
FROM br_trade b
LEFT JOIN action_type a       ON a.code = b.action_code AND a.is_active
LEFT JOIN trade_status_type s ON s.code = b.status_code AND s.is_active
LEFT JOIN known_instrument i  ON i.instrument_code = b.instrument_code
LEFT JOIN known_portfolio p   ON p.portfolio_code = b.portfolio_code
LEFT JOIN repeated r          ON r.br_trade_id = b.br_trade_id
"""

TRADES = """
SELECT {key} AS trade_id,
       source_trade_id,
       to_date(first_event_time) AS trade_date,
       portfolio_code, instrument_code, action_type_id, trade_status_type_id,
       quantity, filled_quantity, price,
       source_event_id AS last_event_id,
       first_event_time,
       event_time AS effective_time
FROM (
  SELECT source_trade_id, portfolio_code, instrument_code, action_type_id,
         trade_status_type_id, quantity, filled_quantity, price, source_event_id, event_time,
         min(event_time) OVER (PARTITION BY source_trade_id) AS first_event_time,
         row_number() OVER (PARTITION BY source_trade_id
                            ORDER BY event_time DESC, source_event_id DESC) AS newest
  FROM checked c
  WHERE rule IS NULL
)
WHERE newest = 1
"""

REJECTS = """
SELECT coalesce(source_event_id, source_trade_id) AS record_key, rule,
       to_json(named_struct('source_event_id', source_event_id,
         'source_trade_id', source_trade_id, 'portfolio_code', portfolio_code,
         'instrument_code', instrument_code, 'action_code', action_code,
         'status_code', status_code, 'quantity', quantity,
         'filled_quantity', filled_quantity, 'price', price, 'event_time', event_time,
         'br_trade_id', br_trade_id)) AS record
FROM checked WHERE rule IS NOT NULL
"""

# Every code silver has ever held (a delisted instrument's late trades still resolve).
KNOWN = "(SELECT DISTINCT {key} FROM silver.{table}) AS q"

STATE = (
    "portfolio_code",
    "instrument_code",
    "action_type_id",
    "trade_status_type_id",
    "quantity",
    "filled_quantity",
    "price",
    "last_event_id",
    "effective_time",
)
INSERT_COLUMNS = ("trade_id", "source_trade_id", "trade_date", "first_event_time", *STATE)


# Newer states replace older ones; an older (late) event never overwrites. Inserted in
# the key's order: its index filled page after page, not at a random page a row.
UPSERT = UpsertRows(
    target="silver.trade",
    step="trades",
    key="source_trade_id",
    columns=INSERT_COLUMNS,
    update=STATE,
    newer="effective_time",
    order_by="trade_id",
)

STATUS_COLUMNS = (
    "trade_date", "trade_status_type_id", "portfolio_code", "instrument_code", "action_type_id",
    "quantity", "filled_quantity", "price", "status_time",
)  # fmt: skip

# Each staged trade's state, as silver.trade now holds it, into the status history.
STATUS = MergeHistory(
    hist="silver.trade_status_hist",
    keys=("trade_id",),
    columns=STATUS_COLUMNS,
    step="trades",
    source="SELECT t.trade_id, t.trade_date, t.trade_status_type_id, t.portfolio_code,"
    " t.instrument_code, t.action_type_id, t.quantity, t.filled_quantity, t.price,"
    " t.effective_time AS status_time FROM silver.trade t JOIN {stage} s USING (trade_id)",
)


TRANSFORM = SilverBatchLoad(
    input="trade_to_bronze",
    extra_inputs=("instrument_to_silver", "portfolio_to_silver"),  # resolve codes in silver
    bronze_table="bronze.br_trade",
    bronze_view="br_trade",
    lookups={
        "action_type": Read("common.action_type"),
        "trade_status_type": Read("common.trade_status_type"),
        "known_instrument": Read(KNOWN.format(key="instrument_code", table="instrument_hist")),
        "known_portfolio": Read(KNOWN.format(key="portfolio_code", table="portfolio_hist")),
    },
    prepare={"repeated": REPEATED},
    checked=CHECKED,
    staged={"trades": TRADES},
    key="source_trade_id",
    types={"trade_id": "uuid"},
    rejects=REJECTS,
    publish=Publications((UPSERT, STATUS)),
    outputs=("silver.trade", "silver.trade_status_hist", "silver.quarantine"),
    in_order=True,
)

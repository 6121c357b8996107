"""Conform the day's instrument snapshot and merge it into ``silver.instrument_hist``.

Codes are resolved against the reference tables; a row that breaks a rule goes to the
quarantine with the rule's name and never closes the instrument's current version.
Instruments missing from the snapshot are closed (delisted); changed ones get a new
version starting at the date's system time.
"""

from src._base.pipeline.shapes import Read, SnapshotIntoHistory

# Duplicates are rare: find the repeated codes with one hash aggregate, and rank only
# their rows (a window over the whole batch sorted a million wide rows: 3.5 s of 15).
REPEATED = """
SELECT br_instrument_id,
       row_number() OVER (PARTITION BY instrument_code, content_hash
                          ORDER BY br_instrument_id) AS copy,
       min(content_hash) OVER (PARTITION BY instrument_code)
         <> max(content_hash) OVER (PARTITION BY instrument_code) AS conflicting
FROM br_instrument
WHERE instrument_code IN (SELECT instrument_code FROM br_instrument
                          GROUP BY instrument_code HAVING count(*) > 1)
"""

# Only what the snapshot and the rejects read: the batch's load metadata made the checked
# table twice as wide (a million rows: 1 s more to write and to scan).
CHECKED = """
SELECT b.br_instrument_id, b.instrument_code, b.name,
       b.asset_class_code, b.exchange_mic, b.currency_code,
       a.asset_class_type_id,
       e.exchange_type_id,
       c.currency_type_id,
       CASE
         WHEN b.instrument_code IS NULL OR b.name IS NULL OR b.asset_class_code IS NULL
           OR b.exchange_mic IS NULL OR b.currency_code IS NULL THEN 'required_field_null'
         WHEN a.asset_class_type_id IS NULL THEN 'unknown_asset_class'
         WHEN e.exchange_type_id IS NULL THEN 'unknown_exchange'
         WHEN c.currency_type_id IS NULL THEN 'unknown_currency'
         WHEN r.copy > 1 THEN 'duplicate_row'
         WHEN r.conflicting THEN 'conflicting_duplicate'
       END AS rule
FROM br_instrument b
LEFT JOIN asset_class_type a ON a.code = b.asset_class_code AND a.is_active
LEFT JOIN exchange_type e    ON e.mic = b.exchange_mic AND e.is_active
LEFT JOIN currency_type c    ON c.iso_code = b.currency_code AND c.is_active
LEFT JOIN repeated r         ON r.br_instrument_id = b.br_instrument_id
"""

# Every key of the snapshot, valid or not: a key absent here is closed (delisted).
SNAPSHOT = """
SELECT instrument_code, name, asset_class_type_id, exchange_type_id, currency_type_id,
       rule IS NULL AS is_valid
FROM checked
WHERE instrument_code IS NOT NULL AND (rule IS NULL OR rule <> 'duplicate_row')
"""

REJECTS = """
SELECT instrument_code AS record_key, rule,
       to_json(named_struct('instrument_code', instrument_code, 'name', name,
         'asset_class_code', asset_class_code, 'exchange_mic', exchange_mic,
         'currency_code', currency_code, 'br_instrument_id', br_instrument_id)) AS record
FROM checked WHERE rule IS NOT NULL
"""

TRANSFORM = SnapshotIntoHistory(
    input="instrument_to_bronze",
    bronze_table="bronze.br_instrument",
    bronze_view="br_instrument",
    hist="silver.instrument_hist",
    keys=("instrument_code",),
    columns=("name", "asset_class_type_id", "exchange_type_id", "currency_type_id"),
    prepare={"repeated": REPEATED},
    checked=CHECKED,
    snapshot=SNAPSHOT,
    rejects=REJECTS,
    lookups={
        "asset_class_type": Read("common.asset_class_type"),
        "exchange_type": Read("common.exchange_type"),
        "currency_type": Read("common.currency_type"),
    },
    quarantine="silver.quarantine",
)

"""Conform the day's portfolio snapshot and merge it into ``silver.portfolio_hist``.

Same shape as ``instrument_to_silver``: rejects go to the quarantine (and never close a
current version), missing portfolios are closed, changed ones get a new version.
"""

from src._base.pipeline.shapes import Read, SnapshotIntoHistory

CHECKED = """
SELECT b.br_portfolio_id, b.portfolio_code, b.name, b.base_currency_code, b.manager,
       c.currency_type_id AS base_currency_type_id,
       CASE
         WHEN b.portfolio_code IS NULL OR b.name IS NULL OR b.base_currency_code IS NULL
           THEN 'required_field_null'
         WHEN c.currency_type_id IS NULL THEN 'unknown_currency'
         WHEN lag(b.content_hash) OVER (PARTITION BY b.portfolio_code
                                 ORDER BY b.content_hash, b.br_portfolio_id) = b.content_hash
           THEN 'duplicate_row'
         WHEN min(b.content_hash) OVER (PARTITION BY b.portfolio_code)
              <> max(b.content_hash) OVER (PARTITION BY b.portfolio_code)
           THEN 'conflicting_duplicate'
       END AS rule
FROM br_portfolio b
LEFT JOIN currency_type c ON c.iso_code = b.base_currency_code AND c.is_active
"""

SNAPSHOT = """
SELECT portfolio_code, name, base_currency_type_id, manager, rule IS NULL AS is_valid
FROM checked
WHERE portfolio_code IS NOT NULL AND (rule IS NULL OR rule <> 'duplicate_row')
"""

REJECTS = """
SELECT portfolio_code AS record_key, rule,
       to_json(named_struct('portfolio_code', portfolio_code, 'name', name,
         'base_currency_code', base_currency_code, 'manager', manager,
         'br_portfolio_id', br_portfolio_id)) AS record
FROM checked WHERE rule IS NOT NULL
"""

TRANSFORM = SnapshotIntoHistory(
    input="portfolio_to_bronze",
    bronze_table="bronze.br_portfolio",
    bronze_view="br_portfolio",
    hist="silver.portfolio_hist",
    keys=("portfolio_code",),
    columns=("name", "base_currency_type_id", "manager"),
    checked=CHECKED,
    snapshot=SNAPSHOT,
    rejects=REJECTS,
    lookups={"currency_type": Read("common.currency_type")},
    quarantine="silver.quarantine",
)

"""Land the portfolio master (``ops.portfolio``, a full snapshot each day) in bronze."""

from src._base.pipeline.shapes import BronzeAppend, SourceTable
from src.demo.demo import CURRENT_THROUGH

LANDED = """
SELECT portfolio_code,
       name,
       base_currency AS base_currency_code,
       manager,
       updated_at    AS source_updated_at,
       updated_at    AS effective_time
FROM source
"""

TRANSFORM = BronzeAppend(
    source=SourceTable("ops.portfolio", source="operational", current_through=CURRENT_THROUGH),
    landed=LANDED,
    target="bronze.br_portfolio",
)

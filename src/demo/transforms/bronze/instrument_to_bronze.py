"""Land the instrument master (``ops.instrument``, a full snapshot each day) in bronze."""

from src._base.pipeline.shapes import BronzeAppend, SourceTable
from src.demo.demo import CURRENT_THROUGH

LANDED = """
SELECT instrument_code,
       name,
       asset_class  AS asset_class_code,
       exchange_mic,
       currency     AS currency_code,
       updated_at   AS source_updated_at,
       updated_at   AS effective_time
FROM source
"""

TRANSFORM = BronzeAppend(
    source=SourceTable("ops.instrument", source="operational", current_through=CURRENT_THROUGH),
    landed=LANDED,
    target="bronze.br_instrument",
)

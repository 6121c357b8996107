"""Land the day's one-minute bars from the Parquet landing zone in bronze.

Files are Hive-style: ``bars_1m/symbol=X/year=Y/month=MM/day=DD.parquet``. The symbol
is taken from the file's path, as text (partition inference would turn "0700" into 700).
The day's manifest (``bars_1m/_manifests/...``) says which symbols it must hold: a day
missing some is refused unless accepted as partial.
"""

from src._base.pipeline.shapes import BronzeAppend, LandingFiles
from src.marketdata.landing import MANIFEST_PATTERN

LANDED = """
SELECT regexp_extract(_metadata.file_path, 'symbol=([^/]+)/', 1) AS symbol,
       `timestamp`          AS bar_time,
       open, high, low, close,
       volume,
       trade_count,
       vwap,
       _metadata.file_path AS source_file,
       coalesce(`timestamp`, TIMESTAMP '{day_start}') AS effective_time
FROM source
"""

TRANSFORM = BronzeAppend(
    source=LandingFiles(
        "bars_1m",
        "symbol=*/year={year}/month={month}/day={dd}.parquet",
        source="landing",
        manifest=MANIFEST_PATTERN,  # the symbols the day must hold, written by the producer
    ),
    landed=LANDED,
    target="bronze.br_minute_bar",
)

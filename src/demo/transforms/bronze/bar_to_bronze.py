"""Land the day's one-minute bars from the Parquet landing zone in bronze.

Files are Hive-style: ``bars_1m/symbol=X/year=Y/month=MM/day=DD.parquet``. The symbol
is taken from the file's path, as text (partition inference would turn "0700" into 700).
"""

from pyspark.sql import SparkSession

from src._base.pipeline.bronze import append_batch
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src.utils.errors import PipelineError

JOB = "bar_to_bronze"

LANDED = """
SELECT regexp_extract(_metadata.file_path, 'symbol=([^/]+)/', 1) AS symbol,
       `timestamp`          AS bar_time,
       open, high, low, close,
       volume,
       trade_count,
       vwap,
       _metadata.file_path AS source_file,
       coalesce(`timestamp`, TIMESTAMP '{day_start}') AS effective_time
FROM src_bar
"""


def run(spark: SparkSession, cfg: RunConfig) -> TransformResult:
    day = cfg.logical_date
    root = cfg.landing_dir / "bars_1m"
    pattern = f"symbol=*/year={day.year}/month={day.month:02d}/day={day.day:02d}.parquet"
    files = sorted(str(path) for path in root.glob(pattern))
    if not files:
        raise PipelineError(
            f"{JOB} for {day}: no bar files match {root / pattern}. Generate the day "
            "(scripts/generate_sources.py) or point MEDALLION_LANDING_DIR at the landing zone."
        )
    bars = spark.read.option("basePath", str(root)).parquet(*files)
    bars.select("*", "_metadata").createOrReplaceTempView("src_bar")
    landed = spark.sql(LANDED.format(day_start=f"{cfg.logical_date} 00:00:00"))
    return append_batch(cfg, JOB, landed, target="bronze.br_minute_bar", source=str(root))

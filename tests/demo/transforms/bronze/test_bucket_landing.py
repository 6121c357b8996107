"""A landing source in a bucket: the demo's bars read from a local S3 server (moto, S3's
wire format), as from a folder; Spark without its S3 connector says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pyarrow.parquet as pq
import pytest
from pyarrow import fs

from src._base.pipeline.catalogue import load_transform
from src._base.sources.resolve import project_sources
from src.config import SRC_PATH, load_settings
from src.demo.generator import SourceSpec, generate_day
from src.utils.errors import PipelineError
from src.utils.pg_binaries import free_port
from tests.conftest import run_sql

DAY = date(2026, 11, 20)
KEY, SECRET = "medallion-test", "bucket-secret-0042"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket_env(demo_env, s3_endpoint, monkeypatch):
    """The day's bar files uploaded to s3://landing/zone; the demo's landing source there."""
    generate_day(demo_env.source, demo_env.landing, DAY, SourceSpec(instruments=6, trades=50))
    bucket = fs.S3FileSystem(
        access_key=KEY, secret_key=SECRET, endpoint_override=s3_endpoint.split("//")[1],
        scheme="http", region="us-east-1", allow_bucket_creation=True,
    )  # fmt: skip
    bucket.create_dir("landing")
    fs.copy_files(str(demo_env.landing), "landing/zone", destination_filesystem=bucket)
    for name, value in (("PATH", "s3://landing/zone"), ("ENDPOINT", s3_endpoint),
                        ("KEY_ID", KEY), ("SECRET_KEY", SECRET)):  # fmt: skip
        monkeypatch.setenv(f"MEDALLION_SOURCE__LANDING__{name}", value)
    sources = project_sources(load_settings(None), demo_env.warehouse, "demo")
    return replace(demo_env.config(DAY), sources=sources)


def local_bars(demo_env) -> tuple[int, int]:
    """Rows and files of the day in the local landing folder (what was uploaded)."""
    files = list(demo_env.landing.glob("bars_1m/symbol=*/year=2026/month=11/day=20.parquet"))
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files), len(files)


def test_bars_are_read_from_a_bucket_as_from_a_folder(demo_env, bucket_env, caplog) -> None:
    cfg = replace(bucket_env, engine="postgres")
    load_transform(SRC_PATH, "demo", "bronze", "bar_to_bronze").run(None, cfg)
    landed = run_sql(
        demo_env.warehouse,
        "SELECT count(*), count(DISTINCT symbol), min(source) FROM bronze.br_minute_bar",
    )
    assert landed[0][:2] == local_bars(demo_env)  # every row, each symbol from its path
    assert landed[0][2].startswith("s3://landing/zone")
    assert SECRET not in caplog.text


def test_a_bucket_that_does_not_answer_names_the_source(demo_env, bucket_env, monkeypatch):
    monkeypatch.setenv("MEDALLION_SOURCE__LANDING__ENDPOINT", f"http://127.0.0.1:{free_port()}")
    sources = project_sources(load_settings(None), demo_env.warehouse, "demo")
    cfg = replace(bucket_env, engine="postgres", sources=sources)
    with pytest.raises(PipelineError) as caught:
        load_transform(SRC_PATH, "demo", "bronze", "bar_to_bronze").run(None, cfg)
    message = str(caught.value)
    assert message.startswith(
        "bar_to_bronze: source 'landing' (landing, s3://landing/zone, from the environment "
        "(MEDALLION_SOURCE__LANDING__*)) is unreachable: "
    )
    assert SECRET not in message


def test_spark_without_its_s3_connector_says_what_to_do(spark, bucket_env) -> None:
    with pytest.raises(PipelineError, match=r"this Spark has no S3A connector\. Add "):
        load_transform(SRC_PATH, "demo", "bronze", "bar_to_bronze").run(spark, bucket_env)

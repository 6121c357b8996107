"""Bronze appends a day's batch once; leftovers of a crashed attempt never survive."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from src._base.functions.system_time import framework_ddl
from src._base.pipeline.bronze import append_batch
from src._base.pipeline.claims import LoadInProgress, claim_load
from src._base.pipeline.run_config import RunConfig
from src.utils.connections import connect_raw

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 20)
TABLE = """CREATE TABLE landing (id uuid DEFAULT gen_random_uuid(), code text,
    batch_id uuid, logical_date date, load_time timestamptz, source text, content_hash text)"""


def fetch(cfg: RunConfig, sql: str, params=None) -> list[tuple]:
    raw = connect_raw(cfg.warehouse)
    try:
        with raw, raw.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        raw.close()


@pytest.fixture
def cfg(pg_database) -> RunConfig:
    cfg = RunConfig(DAY, pg_database, pg_database, Path("/nonexistent"))
    for statement in [*framework_ddl(), TABLE]:
        fetch(cfg, statement)
    return cfg


def test_a_day_is_appended_once_with_its_load_metadata(spark, cfg: RunConfig) -> None:
    landed = spark.createDataFrame([("A",), ("B",), (None,)], "code string")
    first = append_batch(cfg, "code_to_bronze", landed, target="landing", source="ops.code")
    again = append_batch(cfg, "code_to_bronze", landed, target="landing", source="ops.code")
    assert (first.rows_written, first.skipped) == (3, None)
    assert again.skipped == (
        f"batch {cfg.batch_id('code_to_bronze')} for {DAY} is already loaded (--reload replaces it)"
    )
    rows = fetch(cfg, "SELECT code, batch_id::text, logical_date, source, length(content_hash)"
                      " FROM landing ORDER BY code")  # fmt: skip
    batch = str(cfg.batch_id("code_to_bronze"))
    assert rows == [(c, batch, DAY, "ops.code", 64) for c in ("A", "B", None)]


def test_rows_of_a_crashed_attempt_are_replaced(spark, cfg: RunConfig) -> None:
    batch = str(cfg.batch_id("code_to_bronze"))
    fetch(cfg, "INSERT INTO landing (code, batch_id) VALUES ('half-written', %s)", (batch,))
    fetch(cfg, "INSERT INTO medallion.load_log (job, logical_date, batch_id, status)"
               " VALUES ('code_to_bronze', %s, %s, 'running')", (DAY, batch))  # fmt: skip
    landed = spark.createDataFrame([("A",)], "code string")
    append_batch(cfg, "code_to_bronze", landed, target="landing", source="ops.code")
    assert fetch(cfg, "SELECT code FROM landing") == [("A",)]
    assert fetch(cfg, "SELECT status, attempts FROM medallion.load_log") == [("succeeded", 2)]


def test_a_day_being_loaded_elsewhere_is_not_loaded_twice(spark, cfg: RunConfig) -> None:
    landed = spark.createDataFrame([("A",), ("B",)], "code string")
    with claim_load(cfg, "code_to_bronze"):  # another run of the same job and date, mid-load
        with pytest.raises(LoadInProgress, match="code_to_bronze is already being loaded by"):
            append_batch(cfg, "code_to_bronze", landed, target="landing", source="ops.code")
        assert fetch(cfg, "SELECT count(*) FROM landing") == [(0,)]
        assert fetch(cfg, "SELECT count(*) FROM medallion.load_log") == [(0,)]
    append_batch(cfg, "code_to_bronze", landed, target="landing", source="ops.code")
    again = append_batch(cfg, "code_to_bronze", landed, target="landing", source="ops.code")
    assert again.skipped and fetch(cfg, "SELECT count(*) FROM landing") == [(2,)]

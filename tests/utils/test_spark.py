"""Spark ↔ PostgreSQL helpers on a real local Spark and a real server."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from src.config import ConnectionSettings, Settings
from src.utils.connections import connect_raw
from src.utils.errors import ConfigError
from src.utils.spark import find_jdbc_jar, read_table, spark_conf, write_copy, write_jdbc

pytestmark = pytest.mark.postgres

TABLE = """CREATE TABLE public.fills (
    fill_id uuid PRIMARY KEY, account text, note text, qty numeric(18, 4),
    is_buy boolean, trade_date date, filled_at timestamptz)"""
ROWS = [
    (str(uuid.uuid4()), "ACC-1", "", Decimal("10.5000"), True, date(2026, 11, 20),
     datetime(2026, 11, 20, 14, 30, 0, 123456, tzinfo=UTC)),
    (str(uuid.uuid4()), "Société, \"quoted\"\nnext line", None, Decimal("-3.2500"), False, None,
     None),
]  # fmt: skip


def test_missing_jdbc_driver_names_the_setting(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, MEDALLION_JDBC_JAR=str(tmp_path / "nope.jar"))
    with pytest.raises(ConfigError, match="MEDALLION_JDBC_JAR"):
        find_jdbc_jar(settings)


def test_session_settings_are_local_utc_and_quick_to_start() -> None:
    conf = spark_conf(Settings(_env_file=None))  # type: ignore[call-arg]
    assert conf["spark.master"].startswith("local")
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert "TieredStopAtLevel=1" in conf["spark.driver.extraJavaOptions"]


def _fetch(conn: ConnectionSettings) -> list[tuple]:
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute(
                "SELECT fill_id::text, account, note, qty, is_buy, trade_date, filled_at "
                "FROM public.fills ORDER BY account"
            )
            return cur.fetchall()
    finally:
        raw.close()


@pytest.mark.parametrize("writer", [write_copy, write_jdbc], ids=["copy", "jdbc"])
def test_both_write_paths_round_trip_every_type(spark, pg_database, writer) -> None:
    raw = connect_raw(pg_database)
    with raw.cursor() as cur:
        cur.execute(TABLE)
    raw.commit()
    raw.close()
    schema = (
        "fill_id string, account string, note string, qty decimal(18,4), is_buy boolean, "
        "trade_date date, filled_at timestamp"
    )
    df = spark.createDataFrame(ROWS, schema).repartition(2)
    writer(df, pg_database, "public.fills")
    stored = _fetch(pg_database)
    expected = sorted(ROWS, key=lambda r: r[1])
    assert stored == [tuple(r) for r in expected]
    back = read_table(spark, pg_database, "public.fills").orderBy("account").collect()
    assert [r.qty for r in back] == [r[3] for r in expected]
    assert back[0].note == "" and back[1].note is None


def test_child_processes_started_in_console_to_write_there_and_python_does_not(
    tmp_path, capfd
) -> None:
    import subprocess

    from src.utils.spark import console_to

    log = tmp_path / "logs" / "spark.log"
    with console_to(log):
        subprocess.run(["sh", "-c", "echo jvm-out; echo jvm-err >&2"], check=True)
    print("python again")
    assert log.read_text() == "jvm-out\njvm-err\n"
    assert capfd.readouterr().out == "python again\n"
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_sparks_own_console_output_goes_to_the_configured_log(spark) -> None:
    from src.config import load_settings

    text = load_settings().spark_log.read_text()
    assert "log4j" in text or "WARN" in text  # the JVM's start-up lines, not the terminal

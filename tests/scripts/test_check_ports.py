"""check_ports on the demo, small data: the Snowflake port runs under fakesnow, the
Databricks port under PySpark's spark-pipelines, and every ported transform equals the
spark engine's output; a wrong or broken port is caught."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from scripts import check_ports
from src._base.pipeline.catalogue import load_catalogue, project_tables
from src._base.pipeline.daily import run_config
from src._base.ports import generate_port
from src._base.ports.proof import (
    PORTED,
    PortResult,
    _pg_select,
    check_snowflake,
    render_results,
)
from src._base.ports.proof_databricks import _compare, _comparisons
from src.config import load_settings
from src.utils.connections import connect_raw
from tests.scripts.conftest import TWO_DAYS

pytestmark = pytest.mark.postgres


def test_the_snowflake_port_equals_the_spark_engine_and_a_wrong_one_is_caught(
    two_small_days, spark, capsys, throwaway_server
) -> None:
    days = ["--date", "2026-11-19", "--to", "2026-11-20"]
    assert check_ports.main(["demo", *days, "--target", "snowflake"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"2 date\(s\): spark engine [\d.]+ s, snowflake port [\d.]+ s", out), out
    rows = [line for line in out.splitlines() if "_to_" in line]
    assert len(rows) == 18, "\n".join(rows)  # every output table of the 13 transforms
    assert all("ran, equal" in row for row in rows), "\n".join(rows)
    [positions] = [row for row in rows if row.startswith("position_to_gold")]
    assert positions.split()[3] == positions.split()[4] != "0"  # rows on each side
    [bars] = [row for row in rows if row.startswith("bar_to_bronze")]
    assert bars.split()[3] == bars.split()[4] != "0"  # the landing files, copied file by file
    assert "only Snowflake can show: METADATA$FILENAME" in bars

    # The same check, on ports made wrong on purpose, against the same spark warehouse.
    settings = load_settings()
    warehouse = throwaway_server.with_database("demo_check_spark")
    port = generate_port(settings, "demo", "snowflake")
    wrong = dict(port.files)
    wrong["gold/bar_to_gold.sql"] = wrong["gold/bar_to_gold.sql"].replace("MAX(high)", "MIN(high)")
    wrong["silver/portfolio_to_silver.sql"] += "SELECT no_such_column FROM silver.portfolio_hist;\n"
    results = check_snowflake(
        settings, throwaway_server, "demo", TWO_DAYS, None, replace(port, files=wrong), warehouse
    )
    by_table = {(r.transform, r.table): r for r in results if r.status == PORTED}
    bars = by_table[("bar_to_gold", "gold.daily_bar_hist")]
    assert not bars.equal and bars.first_keys and not bars.error
    broken = by_table[("portfolio_to_silver", "silver.portfolio_hist")]
    assert "silver/portfolio_to_silver.sql for 2026-11-19" in broken.error
    assert "no_such_column" in broken.error
    assert by_table[("position_to_gold", "gold.position_eod_hist")].equal
    assert "DIFFERENT" in render_results(results) and "FAILED" in render_results(results)


def test_the_databricks_port_equals_the_spark_engine_and_a_wrong_one_is_caught(
    two_small_days, spark, capsys, throwaway_server, tmp_path
) -> None:
    """One small day (each spark-pipelines run starts a JVM of its own: about a minute)."""
    day = TWO_DAYS[-1]
    kept = tmp_path / "kept"
    args = ["demo", "--date", day.isoformat(), "--target", "databricks", "--keep", str(kept)]
    assert check_ports.main(args) == 0
    assert (kept / "project" / "run-2026-11-20.run.log").is_file()  # the run's own log
    assert (kept / "project" / "history" / "_shared.py").is_file()
    out = capsys.readouterr().out
    assert re.search(r"1 date\(s\): spark engine [\d.]+ s, databricks port [\d.]+ s", out), out
    rows = [line for line in out.splitlines() if "_to_" in line or "(every" in line]
    ran = [row for row in rows if " ran, " in row]
    assert len(ran) == 18 and all("ran, equal" in row for row in ran), "\n".join(rows)
    assert all("only Databricks can show: history/ running" in row for row in ran)
    [history] = [row for row in rows if row.startswith("(every transform)")]
    assert "validated: " in history and "FAILED" not in history, history
    [positions] = [row for row in rows if row.startswith("position_to_gold")]
    assert positions.split()[3] == positions.split()[4] != "0"  # rows on each side

    # The comparison catches a wrong value: the warehouse's own rows of the day, one
    # changed, stand for a port's (a second spark-pipelines run would cost a minute more).
    warehouse = throwaway_server.with_database("demo_check_spark")
    catalogue = load_catalogue(load_settings().src_path, "demo")
    [bars] = [e for e in catalogue.entries if e.name == "bar_to_gold"]
    params = run_config(load_settings(), throwaway_server, "demo", day).params()
    [comparison] = _comparisons(bars, project_tables(load_settings().src_path, "demo"), params, "")
    raw = connect_raw(warehouse)
    try:
        rows = [tuple(row) for row in _pg_select(
            raw, comparison.source, [(c, "") for c in comparison.columns],
            f" WHERE {comparison.where}",
        )]  # fmt: skip
        assert rows
        same = PortResult("bar_to_gold", comparison.table, "databricks", PORTED)
        _compare(raw, comparison, rows, day, same)
        assert not same.first_keys and same.rows["spark"] == same.rows["databricks"] == len(rows)
        high = comparison.columns.index("high")
        changed = [(*rows[0][:high], rows[0][high] * 2, *rows[0][high + 1 :]), *rows[1:]]
        wrong = PortResult("bar_to_gold", comparison.table, "databricks", PORTED)
        _compare(raw, comparison, changed, day, wrong)
        [key] = wrong.first_keys
        assert key.startswith(f"{day}: ") and str(rows[0][0]) in key
    finally:
        raw.close()


def test_a_keep_folder_with_something_in_it_is_refused_before_anything_runs(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    args = ["demo", "--date", "2026-11-20", "--target", "databricks", "--keep", str(tmp_path)]
    assert check_ports.main(args) == 1
    assert "is not empty" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"

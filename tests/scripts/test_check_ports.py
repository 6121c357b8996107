"""check_ports on the demo, small data: the Snowflake port runs under fakesnow and every
ported transform equals the spark engine's output; a wrong or broken port is caught."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from scripts import check_ports
from src._base.ports import generate_port
from src._base.ports.proof import PORTED, check_snowflake, render_results
from src.config import load_settings
from tests.scripts.conftest import TWO_DAYS

pytestmark = pytest.mark.postgres


def test_the_snowflake_port_equals_the_spark_engine_and_a_wrong_one_is_caught(
    two_small_days, spark, capsys, throwaway_server
) -> None:
    assert check_ports.main(["demo", "--date", "2026-11-19", "--to", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"2 date\(s\): spark engine [\d.]+ s, snowflake port [\d.]+ s", out), out
    rows = [line for line in out.splitlines() if "_to_" in line]
    assert len(rows) == 18, "\n".join(rows)  # every output table of the 13 transforms
    ran = [row for row in rows if " ran, " in row]
    assert len(ran) == 17 and all("ran, equal" in row for row in ran), "\n".join(rows)
    [positions] = [row for row in rows if row.startswith("position_to_gold")]
    assert positions.split()[3] == positions.split()[4] != "0"  # rows on each side
    [not_ported] = [row for row in rows if " ran, " not in row]
    assert not_ported.startswith("bar_to_bronze") and "NOT PORTED: reads landing" in not_ported

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

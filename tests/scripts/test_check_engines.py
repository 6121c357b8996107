"""check_engines on the demo's transforms, small data: every transform equal on spark and
postgres, from the same sources; and the postgres engine's bad paths."""

from __future__ import annotations

import pytest

from scripts import check_engines, run_pipeline

pytestmark = pytest.mark.postgres


def test_every_demo_transform_is_equal_on_both_engines(two_small_days, spark, capsys) -> None:
    assert check_engines.main(["demo", "--date", "2026-11-19", "--to", "2026-11-20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if "_to_" in line]
    assert len(rows) == 18  # every output table of the 13 transforms
    assert all(" equal" in row for row in rows), "\n".join(rows)
    [positions] = [row for row in rows if row.startswith("position_to_gold")]
    assert positions.split()[2] == positions.split()[3] != "0"  # rows on each engine


def test_an_unknown_engine_gets_a_did_you_mean(use_test_server, caplog) -> None:
    assert run_pipeline.main(["demo", "--date", "2026-11-20", "--engine", "postgress"]) == 1
    assert "Unknown engine 'postgress'. Did you mean 'postgres'? Engines: spark, postgres" in (
        caplog.text
    )


def test_a_step_postgres_cannot_run_names_the_transform_step_and_construct(
    make_project, caplog
) -> None:
    from scripts import orchestrate_build

    project = make_project()
    project.write(
        "schemas/gold.py",
        'from src._base.build.project import Schema\n\nSCHEMA = Schema(name="gold")\n',
    )
    project.write(
        "tables/gold/spread_hist.py",
        "from datetime import date\n"
        "from sqlmodel import Field\n"
        "from src._base.tables.table_type_mixins import TemporalTableBase\n"
        "class SpreadHist(TemporalTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'gold'}\n"
        "    business_date: date = Field(primary_key=True)\n"
        "    m: float\n",
    )
    project.write(
        "transforms/gold/spread_to_gold.py",
        "from src._base.pipeline.shapes import GoldSnapshot, Read\n"
        "TRANSFORM = GoldSnapshot(inputs=(), reads={'k': Read('common.kind0000_type')},\n"
        "    steps={'median': 'SELECT DATE \\'{day}\\' AS business_date,'\n"
        "                     ' percentile_approx(kind0000_type_id, 0.5) AS m FROM k'},\n"
        "    target='gold.spread_hist', keys=('business_date',))\n",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 0
    argv = [project.name, "gold", "--date", "2026-11-20", "--engine", "postgres"]
    assert run_pipeline.main(argv) == 1
    assert "spread_to_gold, step median: cannot translate PERCENTILE_APPROX(" in caplog.text

"""--env: one project built and run in dev and prod side by side, neither touching the other."""

from __future__ import annotations

from datetime import date

import pytest

from scripts import migrate, orchestrate_build, run_pipeline
from src.config import ConnectionSettings
from src.demo.generator import SourceSpec
from tests.conftest import run_sql
from tests.demo.conftest import warehouse_fingerprint
from tests.scripts.conftest import day_sources

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 20)
ENVS = ("demo__dev", "demo__prod")


@pytest.fixture
def sources(throwaway_server: ConnectionSettings, monkeypatch, tmp_path):
    spec = SourceSpec(trades=150, instruments=6, portfolios=4)
    with day_sources(throwaway_server, monkeypatch, tmp_path, DAY, spec, ENVS):
        yield throwaway_server


def loads(server: ConnectionSettings, database: str) -> list[tuple]:
    return run_sql(
        server.with_database(database),
        "SELECT job, status FROM medallion.load_log ORDER BY job",
    )


def test_dev_and_prod_of_one_project_live_side_by_side(sources, capfd) -> None:
    server = sources
    for env in ("dev", "prod"):
        assert orchestrate_build.main(["postgres", "demo", "--env", env]) == 0
    assert "demo__prod" in capfd.readouterr().out
    run = ["demo", "bronze", "silver", "--date", DAY.isoformat(), "--engine", "postgres"]
    assert run_pipeline.main([*run, "--env", "dev"]) == 0
    assert loads(server, "demo__prod") == []  # dev's run left prod alone
    assert ("trade_to_silver", "succeeded") in loads(server, "demo__dev")
    assert run_pipeline.main([*run, "--env", "prod"]) == 0
    dev, prod = (warehouse_fingerprint(server.with_database(db)) for db in ENVS)
    assert {t: v["n"] for t, v in dev.items()} == {t: v["n"] for t, v in prod.items()}
    # the history is stamped with the date's system time, so equal in both environments
    # (bronze and the quarantine carry the time they were loaded)
    history = [t for t in dev if t.startswith("silver.") and t != "silver.quarantine"]
    assert all(dev[t] == prod[t] for t in history) and dev["silver.trade"]["n"] > 0
    # migrations reach the environment's database: there is no database demo here
    assert migrate.main(["--env", "dev", "demo", "upgrade", "head"]) == 0
    assert migrate.main(["demo", "upgrade", "head"]) == 1
    # rebuilding dev from scratch drops dev only
    assert orchestrate_build.main(["postgres", "demo", "--env", "dev", "--rebuild"]) == 0
    assert loads(server, "demo__dev") == []
    assert warehouse_fingerprint(server.with_database("demo__prod")) == prod


def test_a_bad_environment_name_is_refused_naming_the_rule(sources, caplog) -> None:
    assert orchestrate_build.main(["postgres", "demo", "--env", "Dev-1"]) == 1
    assert "Environment 'Dev-1' (--env or MEDALLION_ENV): use 1-16 lower-case letters" in (
        caplog.text
    )
    run = ["demo", "--date", DAY.isoformat(), "--engine", "postgres", "--env", "x y"]
    assert run_pipeline.main(run) == 1
    assert "Environment 'x y'" in caplog.text

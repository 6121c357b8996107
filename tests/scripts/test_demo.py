from __future__ import annotations

from pathlib import Path

import pytest

from scripts import demo
from src.config import ConnectionSettings
from src.utils.connections import execute_autocommit
from src.utils.pg_binaries import free_port
from tests.demo.conftest import warehouse_fingerprint

pytestmark = pytest.mark.postgres


SMALL = ["--trades", "200", "--instruments", "8"]


def test_demo_builds_generates_and_runs_the_pipeline(
    throwaway_server: ConnectionSettings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pg_server = throwaway_server
    monkeypatch.setenv("MEDALLION_LANDING_DIR", str(tmp_path / "landing"))
    for name in ("demo", "demo_source"):
        execute_autocommit(pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    try:
        assert demo.main(SMALL) == 0
        assert f"{pg_server.host}:{pg_server.port}" in caplog.text
        out = capsys.readouterr().out
        assert "Build SUCCESS" in out
        assert "2026-11-19" in out and "2026-11-20" in out
        assert "trade_to_silver" in out and "required_field_null" in out
        gold = next(line for line in out.splitlines() if line.startswith("  gold "))
        assert "position_eod" in gold and " 0 rows" not in gold
        runs = [line.split()[:3] for line in out.splitlines() if line.startswith("demo_")]
        assert runs == [
            [f"demo_{layer}", day, "success"]
            for day in ("2026-11-19", "2026-11-20")
            for layer in ("bronze", "silver", "gold")
        ]
        before = warehouse_fingerprint(pg_server.with_database("demo"))
        assert demo.main(SMALL) == 0  # the main job can run again (loaded days are skipped)
        assert out.split("Warehouse")[1].split("Run time")[0] in capsys.readouterr().out
        # every bronze, silver and gold table, history included, is as the first run left it
        assert warehouse_fingerprint(pg_server.with_database("demo")) == before
    finally:
        for name in ("demo", "demo_source"):
            execute_autocommit(pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_demo_fails_with_exit_1_when_the_server_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", str(free_port()))
    monkeypatch.setenv("MEDALLION_CONNECT_TIMEOUT", "2")
    assert demo.main([]) == 1
    assert "Cannot reach PostgreSQL" in caplog.text

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import demo
from src.config import ConnectionSettings
from src.utils.connections import execute_autocommit
from src.utils.pg_binaries import free_port

pytestmark = pytest.mark.postgres


def test_demo_runs_against_a_configured_server(
    throwaway_server: ConnectionSettings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pg_server = throwaway_server
    execute_autocommit(pg_server, "DROP DATABASE IF EXISTS demo WITH (FORCE)")
    try:
        assert demo.main([]) == 0
        assert f"{pg_server.host}:{pg_server.port}" in caplog.text
        assert "Build SUCCESS" in capsys.readouterr().out
        assert demo.main([]) == 0  # the main job can run again
    finally:
        execute_autocommit(pg_server, "DROP DATABASE IF EXISTS demo WITH (FORCE)")


def test_demo_fails_with_exit_1_when_the_server_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", str(free_port()))
    monkeypatch.setenv("MEDALLION_CONNECT_TIMEOUT", "2")
    assert demo.main([]) == 1
    assert "Cannot reach PostgreSQL" in caplog.text

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import local_postgres
from src.utils.pg_binaries import free_port

pytestmark = pytest.mark.postgres


@pytest.fixture
def embedded_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("PGHOST", "PGPORT", "DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "pg"
    monkeypatch.setenv("MEDALLION_EMBEDDED_DIR", str(home))
    monkeypatch.setenv("MEDALLION_EMBEDDED_PORT", str(free_port()))
    monkeypatch.chdir(tmp_path)  # no developer .env
    yield home
    local_postgres.main(["reset"])


def test_start_status_stop_cycle(embedded_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert local_postgres.main(["status"]) == 1
    assert local_postgres.main(["start"]) == 0
    assert "psql -h 127.0.0.1" in caplog.text
    assert local_postgres.main(["start"]) == 0  # second start reuses the running server
    assert local_postgres.main(["status"]) == 0
    assert local_postgres.main(["stop"]) == 0
    assert local_postgres.main(["status"]) == 1
    assert local_postgres.main(["stop"]) == 0  # stopping a stopped server is fine


def test_bad_port_setting_exits_1(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MEDALLION_EMBEDDED_PORT", "80")
    assert local_postgres.main(["start"]) == 1
    assert "MEDALLION_EMBEDDED_PORT" in caplog.text

"""The ingest's YAML config and command line: checked up front, every bad value named
with where it came from; the simulated provider through the whole command."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scripts import marketdata
from src.config import load_settings
from src.demo.generator import SourceSpec
from src.demo.generator_bars import minute_bars
from src.marketdata import landing
from src.marketdata.bars import Timeframe
from src.marketdata.config import load_ingest_config, make_provider
from src.marketdata.providers.alpaca import Alpaca
from src.marketdata.providers.binance import Binance
from src.utils.errors import ConfigError
from tests.conftest import run_sql

GOOD = "provider: binance\nsymbols: [btcusdt, ETHUSDT]\nfrom: 2021-10-22\nto: 2021-10-23\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ingest.yaml"
    path.write_text(text)
    return path


def test_a_file_is_read_and_the_command_line_overrides_it(tmp_path: Path) -> None:
    config = load_ingest_config(write(tmp_path, GOOD + "workers: 8\n"), {"workers": 2})
    assert config.symbols == ("BTCUSDT", "ETHUSDT")
    assert (config.first, config.last, config.workers) == (
        date(2021, 10, 22),
        date(2021, 10, 23),
        2,
    )
    assert config.timeframe is Timeframe.M1
    override = load_ingest_config(write(tmp_path, GOOD), {"symbols": "SOLUSDT", "to": None})
    assert override.symbols == ("SOLUSDT",) and override.last == date(2021, 10, 23)


@pytest.mark.parametrize(
    ("text", "overrides", "named"),
    [
        (GOOD.replace("[btcusdt, ETHUSDT]", "[BTC-USDT]"), {}, r"symbols: .*BTC-USDT"),
        (GOOD.replace("to: 2021-10-23", "to: 2021-10-21"), {}, r"to \(2021-10-21\) is before"),
        (GOOD + "timeframe: 2m\n", {}, r"timeframe: .*'1m', '5m'"),
        (GOOD, {"workers": 0}, r"workers: .*greater than or equal to 1 .*--workers"),
        (GOOD, {"workers": 65}, r"workers: .*less than or equal to 64"),
        (GOOD + "wrokers: 8\n", {}, r"wrokers: Extra inputs are not permitted .*ingest.yaml"),
        (GOOD.replace("binance", "kraken"), {}, r"provider: .*'binance', 'alpaca'"),
        (GOOD, {"first": "2021-13-01"}, r"from: .*--from"),
        (GOOD + "providers:\n  binance: {page_limit: 5000}\n", {}, r"providers.binance.page_limit"),
    ],
)
def test_a_bad_value_is_named_with_its_source(
    tmp_path: Path, text: str, overrides: dict, named: str
) -> None:
    renamed = {("from" if k == "first" else k): v for k, v in overrides.items()}
    with pytest.raises(ConfigError, match=named):
        load_ingest_config(write(tmp_path, text), renamed)


def test_a_range_in_the_future_and_an_unreadable_file_are_refused(tmp_path: Path) -> None:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    with pytest.raises(ConfigError, match=r"from \(.*\) is in the future"):
        load_ingest_config(None, {"provider": "binance", "symbols": "BTCUSDT",
                                  "from": str(tomorrow), "to": str(tomorrow)})  # fmt: skip
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_ingest_config(write(tmp_path, "provider: [binance\n"), {})
    with pytest.raises(ConfigError, match="cannot read the ingest config"):
        load_ingest_config(tmp_path / "missing.yaml", {})


def test_the_base_url_comes_from_the_environment_before_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = GOOD + "providers:\n  binance: {base_url: 'http://127.0.0.1:1/file'}\n"
    config = load_ingest_config(write(tmp_path, text), {})
    monkeypatch.delenv("MEDALLION_BINANCE_BASE_URL", raising=False)
    provider = make_provider(config, load_settings(env_file=None))
    assert isinstance(provider, Binance) and provider.base_url == "http://127.0.0.1:1/file"
    monkeypatch.setenv("MEDALLION_BINANCE_BASE_URL", "http://127.0.0.1:1/env")
    assert make_provider(config, load_settings(env_file=None)).base_url.endswith("/env")


def test_alpaca_keys_come_from_the_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_ingest_config(write(tmp_path, GOOD.replace("binance", "alpaca")), {})
    for name in ("MEDALLION_ALPACA_KEY_ID", "MEDALLION_ALPACA_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="MEDALLION_ALPACA_KEY_ID"):
        make_provider(config, load_settings(env_file=None))
    monkeypatch.setenv("MEDALLION_ALPACA_KEY_ID", "key")
    monkeypatch.setenv("MEDALLION_ALPACA_SECRET_KEY", "s3cr3t-value")
    provider = make_provider(config, load_settings(env_file=None))
    assert isinstance(provider, Alpaca) and "s3cr3t-value" not in repr(provider)
    with pytest.raises(ConfigError, match="key_id: Extra inputs"):
        load_ingest_config(write(tmp_path, GOOD + "key_id: abc\n"), {})


@pytest.mark.postgres
def test_the_simulated_provider_lands_what_the_generator_makes(
    pg_database, use_test_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing_dir = tmp_path / "landing"
    monkeypatch.setenv("MEDALLION_LANDING_DIR", str(landing_dir))
    day = date(2026, 3, 2)
    bars = minute_bars(SourceSpec(), day)
    symbols = bars.symbols[:3]
    argv = ["ingest", "--provider", "simulated", "--symbols", ",".join([*symbols, "NOPE1"]),
            "--from", str(day), "--to", str(day), "--database", pg_database.database]  # fmt: skip
    assert marketdata.main(argv) == 1  # NOPE1 is not in the universe: listed, and exit 1
    for row, symbol in enumerate(symbols):
        table = pq.read_table(landing.bar_file(landing_dir, symbol, day))
        [(rejected,)] = run_sql(
            pg_database, "SELECT count(*) FROM medallion.marketdata_reject WHERE symbol = %s",
            (symbol,),
        )  # fmt: skip
        assert table.num_rows + rejected == int(bars.keep[row].sum())  # none lost, none made up
    [(failed,)] = run_sql(pg_database, "SELECT count(*) FROM medallion.marketdata_ingest")
    assert failed == 3  # the bad symbol has no checkpoint
    assert marketdata.main(argv[:4] + argv[5:]) == 1  # missing --symbols: a usage error


@pytest.mark.postgres
def test_the_ingest_reads_a_declared_http_source(
    make_project, httpserver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    from scripts import orchestrate_build
    from tests.marketdata.exchange import Exchange

    project = make_project(reference=1, transactional=0, temporal=0)
    project.write(
        f"{project.name}.py",
        "from src._base.build.project import DatabaseProject\n"
        "from src._base.sources.declared import HttpSource\n"
        f"DATABASE = DatabaseProject(name={project.name!r}, sources=(\n"
        "    HttpSource('exchange', base_url='http://127.0.0.1:9/nowhere'),))\n",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 0
    httpserver.expect_request("/api/v3/klines").respond_with_handler(Exchange())
    monkeypatch.setenv("MEDALLION_LANDING_DIR", str(tmp_path / "landing"))
    day = "2021-10-22"
    argv = ["ingest", "--provider", "binance", "--symbols", "BTCUSDT", "--from", day, "--to",
            day, "--database", project.name, "--source", "exchange"]  # fmt: skip
    assert marketdata.main(argv) == 1  # the declaration's URL: nothing listens there
    assert "provider from source 'exchange': http://127.0.0.1:9/nowhere (from its declaration)" in (
        caplog.text
    )
    monkeypatch.setenv("MEDALLION_SOURCE__EXCHANGE__BASE_URL", httpserver.url_for(""))
    assert marketdata.main(argv) == 0  # the environment points it at the exchange
    bars = pq.read_table(landing.bar_file(tmp_path / "landing", "BTCUSDT", date(2021, 10, 22)))
    assert bars.num_rows == 1440
    assert marketdata.main([*argv[:-1], "exchnage"]) == 1
    assert "--source exchnage: project" in caplog.text and "HTTP sources: exchange" in caplog.text

"""Market data from the command line.

    uv run python scripts/marketdata.py ingest --provider binance --symbols BTCUSDT,ETHUSDT
        --from 2021-10-22 --to 2021-10-23 [--timeframe 1m] [--workers 8] [--config FILE]
        [--database demo] [--metrics-port 9108] [--source NAME]
    uv run python scripts/marketdata.py collect --symbols BTCUSDT,ETHUSDT [--database demo]
        [--minutes N] [--metrics-port 9108]
    uv run python scripts/marketdata.py status [--database demo]

``ingest`` lands the bars of each symbol and UTC day as Parquet in the landing zone
(MEDALLION_LANDING_DIR), resuming from the checkpoints kept in the database's
``medallion`` schema: a range already landed is not fetched again. Options given on the
command line override the YAML file's. It exits 1 when any symbol-day failed (each is
listed), after landing all the others.
``collect`` stores each symbol's price once a minute in ``bronze.br_price`` until
stopped (SIGTERM or Ctrl-C end it after the minute in hand; exit code 0), or for
``--minutes`` minutes. A minute it could not price is stored as a gap with its reason.
``status`` shows, per symbol, the days and bars ingested (with rejects and gaps), and
the last priced minute, its price and age, and the last day's prices and gaps.
The exchange is reached at MEDALLION_BINANCE_BASE_URL (default Binance's public API), or
with ``--source NAME`` at the project's declared HTTP source (its URL and keys resolved
like any source: MEDALLION_SOURCE__<NAME>__BASE_URL, the connections store, the
declaration);
the database as the build scripts reach it (PGHOST/PGPORT/PGUSER, DATABASE_URL or the
embedded server). Exit code 0, or 1 with one line saying what to fix.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from src._base.sources.declared import HttpEndpoint
from src._base.sources.resolve import project_sources
from src.config import ConnectionSettings, Settings, load_settings
from src.marketdata.collector import collector_status, parse_symbols, run_collector
from src.marketdata.config import load_ingest_config, make_provider
from src.marketdata.ingest import ingest as run_ingest
from src.marketdata.ingest import ingested
from src.marketdata.metrics import MarketMetrics
from src.marketdata.providers.binance import Binance
from src.utils.connections import ensure_server
from src.utils.errors import ConfigError, MedallionError
from src.utils.log import configure_logging

log = logging.getLogger(__name__)
app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help=__doc__.splitlines()[0],
)  # fmt: skip


@app.callback()
def commands() -> None:
    """Market data: ingest bars, collect prices, and see what was landed and collected."""


@app.command()
def ingest(
    provider: str | None = typer.Option(None, help="binance, alpaca or simulated"),
    symbols: str | None = typer.Option(None, help="comma-separated: BTCUSDT,ETHUSDT"),
    first: str | None = typer.Option(None, "--from", help="first UTC day, YYYY-MM-DD"),
    last: str | None = typer.Option(None, "--to", help="last UTC day (included)"),
    timeframe: str | None = typer.Option(None, help="1m (default), 5m, 15m, 1h or 1d"),
    workers: int | None = typer.Option(None, help="symbol-days landed at once (1-64)"),
    database: str | None = typer.Option(None, help="keeps the checkpoints (default demo)"),
    config: Path | None = typer.Option(None, help="a YAML ingest config (see the README)"),
    source: str | None = typer.Option(
        None, help="a declared HTTP source of the project (--database): its URL and keys"
    ),
    metrics_port: int | None = typer.Option(
        None, min=1, max=65535, help="serve Prometheus metrics on 127.0.0.1:PORT while running"
    ),
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR"),
) -> None:
    """Land a provider's bars for a range of days as Parquet, resumably."""
    configure_logging(log_level)
    settings = load_settings()
    overrides = {"provider": provider, "symbols": symbols, "from": first, "to": last,
                 "timeframe": timeframe, "workers": workers, "database": database}  # fmt: skip
    chosen = load_ingest_config(config, overrides)
    conn = ensure_server(settings, database=chosen.database)
    endpoint = http_source(settings, conn, chosen.database, source) if source else None
    vendor = make_provider(chosen, settings, endpoint)
    metrics = _metrics(metrics_port)
    report = asyncio.run(
        run_ingest(conn, vendor, chosen.plan(), settings.landing_dir,
                   policy=chosen.policy(), metrics=metrics)
    )  # fmt: skip
    log.info("%d symbol-days in %.1f s: %d done, %d partial (the day has not ended), "
             "%d already landed, %d failed; %d bars landed, %d quarantined",
             len(report.days), report.seconds, report.count("done"), report.count("partial"),
             report.count("skipped"), len(report.failed), report.landed,
             report.rejected)  # fmt: skip
    for failed in report.failed:
        log.error("%s failed: %s", failed.key, failed.error)
    if report.failed:
        raise typer.Exit(1)


def http_source(
    settings: Settings, conn: ConnectionSettings, project: str, name: str
) -> HttpEndpoint:
    """The declared HTTP source ``name`` of ``project``, resolved (environment > store)."""
    resolved = project_sources(settings, conn, project)
    if name not in resolved or resolved[name].kind != "http":
        http = sorted(n for n, s in resolved.items() if s.kind == "http")
        raise ConfigError(
            f"--source {name}: project {project} declares no HTTP source of that name "
            f"(HTTP sources: {', '.join(http) or 'none'}); declare HttpSource({name!r}, ...)."
        )
    log.info("provider from source '%s': %s (from %s)", name, resolved[name].describe(),
             resolved[name].origin)  # fmt: skip
    return resolved[name].target


def _metrics(port: int | None) -> MarketMetrics:
    metrics = MarketMetrics()
    if port is not None:
        metrics.serve(port)
        log.info("metrics on http://127.0.0.1:%d/metrics", port)
    return metrics


@app.command()
def collect(
    symbols: str = typer.Option(..., help="exchange symbols, comma-separated: BTCUSDT,ETHUSDT"),
    database: str = typer.Option("demo", help="the database whose bronze.br_price is filled"),
    minutes: int | None = typer.Option(None, min=1, help="stop after this many minutes"),
    metrics_port: int | None = typer.Option(
        None, min=1, max=65535, help="serve Prometheus metrics on 127.0.0.1:PORT while running"
    ),
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR"),
) -> None:
    """Store each symbol's price once a minute until stopped."""
    configure_logging(log_level)
    settings = load_settings()
    wanted = parse_symbols(symbols)
    conn = ensure_server(settings, database=database)
    provider = Binance(base_url=settings.binance_base_url)
    metrics = _metrics(metrics_port)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for stopping in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stopping, stop.set)
        done = await run_collector(
            conn, provider, wanted, stop=stop, minutes=minutes, metrics=metrics
        )
        log.info("collected %d minute(s): %d prices, %d gaps, %d rows stored",
                 done.minutes, done.prices, done.gaps, done.stored)  # fmt: skip

    asyncio.run(run())


@app.command()
def status(
    database: str = typer.Option("demo", help="the database whose market data is shown"),
) -> None:
    """What was ingested (days, bars, rejects, gaps per symbol) and collected (the last
    price per symbol, the last day's prices and gaps)."""
    settings = load_settings()
    conn = ensure_server(settings, database=database)
    now = datetime.now(UTC)
    landed, priced = asyncio.run(_statuses(conn, now))
    console = Console(width=120)
    if landed:
        console.print(_ingested_table(landed, database))
    else:
        typer.echo(f"No bars ingested for {database} yet: run `marketdata.py ingest`.")
    if priced:
        console.print(_prices_table(priced, database, now))
    else:
        typer.echo(f"No prices collected in {database} yet: run `marketdata.py collect`.")


async def _statuses(conn, now: datetime) -> tuple[list, list]:
    return await ingested(conn), await collector_status(conn, now)


def _ingested_table(found: list, database: str) -> Table:
    table = Table(title=f"Bars ingested for {database}")
    columns = ("provider", "symbol", "tf", "days done", "partial", "from", "to", "last bar",
               "bars", "rejected", "gaps")  # fmt: skip
    counts = {"days done", "partial", "bars", "rejected", "gaps"}
    for column in columns:
        table.add_column(column, justify="right" if column in counts else "left")
    for s in found:
        last = f"{s.last_bar:%Y-%m-%d %H:%M}" if s.last_bar else ""
        table.add_row(s.provider, s.symbol, s.timeframe, str(s.done), str(s.partial),
                      str(s.first_day), str(s.last_day), last, f"{s.bars:,}", str(s.rejected),
                      str(s.gaps))  # fmt: skip
    return table


def _prices_table(found: list, database: str, now: datetime) -> Table:
    table = Table(title=f"Minute prices in {database}, {now:%Y-%m-%d %H:%M} UTC")
    for column in ("source", "symbol", "last priced", "price", "age", "prices 24h", "gaps 24h"):
        table.add_column(column, justify="right" if column[0] in "pag" else "left")
    for s in found:
        age = f"{(now - s.last_priced).total_seconds() / 60:.0f} min" if s.last_priced else ""
        last = f"{s.last_priced:%Y-%m-%d %H:%M}" if s.last_priced else "never"
        table.add_row(s.source, s.symbol, last, f"{s.price.normalize():f}" if s.price else "",
                      age, str(s.prices), str(s.gaps))  # fmt: skip
    return table


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("INFO")
    try:
        app(args=list(argv) if argv is not None else None, prog_name="marketdata.py")
    except SystemExit as exc:  # Typer's own ending: usage errors (2) become 1, as documented
        return 0 if exc.code in (0, None) else 1
    except MedallionError as exc:
        log.error("%s", exc)
        log.debug("traceback", exc_info=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

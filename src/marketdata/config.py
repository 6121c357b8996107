"""The ingest's configuration: a YAML file, overridden from the command line, checked
before anything is fetched.

    provider: binance            # binance, alpaca or simulated
    symbols: [BTCUSDT, ETHUSDT]
    from: 2021-10-22             # UTC days, both included
    to: 2021-10-23
    timeframe: 1m                # 1m, 5m, 15m, 1h or 1d
    workers: 8                   # symbol-days landed at once (1-64)
    database: demo               # whose medallion schema keeps the checkpoints
    compression: zstd            # or snappy
    providers:                   # optional, per provider
      binance: {base_url: "http://127.0.0.1:8080", page_limit: 1000}
      alpaca: {feed: iex}
      simulated: {seed: 42, instruments: 50}
    retry: {attempts: 5, base_seconds: 0.5, cap_seconds: 30}

A provider's base URL comes from ``MEDALLION_<PROVIDER>_BASE_URL`` when that is set,
else from the file, else the vendor's public address. Credentials (Alpaca's keys) come
from the environment or ``.env`` only, never from this file or the command line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from src._base.sources.declared import HttpEndpoint
from src.config import Settings
from src.marketdata.bars import Timeframe
from src.marketdata.collector import SYMBOL
from src.marketdata.fetch import RetryPolicy
from src.marketdata.ingest import IngestPlan
from src.marketdata.providers.alpaca import Alpaca
from src.marketdata.providers.base import Provider
from src.marketdata.providers.binance import Binance
from src.marketdata.providers.simulated import Simulated
from src.utils.errors import ConfigError

MAX_DAYS = 3660  # ten years of days in one ingest


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BinanceOptions(_Strict):
    base_url: str | None = None
    page_limit: int = Field(1000, ge=1, le=1000)


class AlpacaOptions(_Strict):
    base_url: str | None = None
    page_limit: int = Field(10000, ge=1, le=10000)
    feed: Literal["iex", "sip", "otc"] = "iex"


class SimulatedOptions(_Strict):
    seed: int = 42
    instruments: int = Field(50, ge=1, le=100_000)


class ProviderOptions(_Strict):
    binance: BinanceOptions = BinanceOptions()
    alpaca: AlpacaOptions = AlpacaOptions()
    simulated: SimulatedOptions = SimulatedOptions()


class RetryOptions(_Strict):
    attempts: int = Field(5, ge=1, le=20)
    base_seconds: float = Field(0.5, gt=0, le=60)
    cap_seconds: float = Field(30.0, gt=0, le=600)


class IngestConfig(_Strict):
    provider: Literal["binance", "alpaca", "simulated"]
    symbols: tuple[str, ...] = Field(min_length=1)
    first: date = Field(alias="from")
    last: date = Field(alias="to")
    timeframe: Timeframe = Timeframe.M1
    workers: int = Field(4, ge=1, le=64)
    database: str = "demo"
    compression: Literal["zstd", "snappy"] = "zstd"
    providers: ProviderOptions = ProviderOptions()
    retry: RetryOptions = RetryOptions()

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbols(cls, value: Any) -> Any:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        symbols = [str(s).strip().upper() for s in items if str(s).strip()]
        bad = [s for s in symbols if not SYMBOL.match(s)]
        if bad:
            raise ValueError(f"not exchange symbols: {', '.join(bad)} (2-20 letters or digits)")
        return tuple(dict.fromkeys(symbols))

    @model_validator(mode="after")
    def _range(self) -> IngestConfig:
        today = datetime.now(UTC).date()
        if self.last < self.first:
            raise ValueError(f"to ({self.last}) is before from ({self.first})")
        if self.first > today:
            raise ValueError(f"from ({self.first}) is in the future (today is {today} UTC)")
        if (self.last - self.first).days >= MAX_DAYS:
            raise ValueError(f"from-to spans more than {MAX_DAYS} days: split the range")
        if self.provider == "simulated" and self.timeframe is not Timeframe.M1:
            raise ValueError("timeframe: the simulated provider makes 1m bars only")
        return self

    def plan(self) -> IngestPlan:
        last = min(self.last, datetime.now(UTC).date())
        return IngestPlan(self.symbols, self.first, last, self.timeframe, self.workers,
                          self.compression)  # fmt: skip

    def policy(self) -> RetryPolicy:
        r = self.retry
        return RetryPolicy(attempts=r.attempts, base=r.base_seconds, cap=r.cap_seconds)


def load_ingest_config(path: Path | None, overrides: dict[str, Any]) -> IngestConfig:
    """The file's settings with the command line's ``overrides`` (None values ignored),
    checked; a bad value is a :class:`ConfigError` naming the field and where it came
    from."""
    raw = _read_yaml(path) if path is not None else {}
    given = {k: v for k, v in overrides.items() if v is not None}
    raw.update(given)
    try:
        return IngestConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path, set(given))) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the ingest config ({exc.strerror}).") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}).") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: an ingest config is a mapping (provider:, symbols:, ...).")
    return loaded


def _explain(exc: ValidationError, path: Path | None, given: set[str]) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "the range"
        top = str(error["loc"][0]) if error["loc"] else ""
        source = f"the command line (--{top})" if top in given else (
            str(path) if path else "the command line")  # fmt: skip
        problems.append(f"{field}: {error['msg'].removeprefix('Value error, ')} (from {source})")
    return "Ingest config rejected: " + "; ".join(problems) + ". Fix it and run again."


def make_provider(
    config: IngestConfig, settings: Settings, endpoint: HttpEndpoint | None = None
) -> Provider:
    """The configured provider; its base URL from the environment when set there. With
    ``endpoint`` (a project's declared HTTP source, resolved), its URL and keys instead."""
    options = getattr(config.providers, config.provider)
    if config.provider == "simulated":
        return Simulated(seed=options.seed, instruments=options.instruments)
    from_env = f"{config.provider}_base_url" in settings.model_fields_set
    base = getattr(settings, f"{config.provider}_base_url")
    url = base if from_env or options.base_url is None else options.base_url
    key_id, secret_key = settings.alpaca_key_id, settings.alpaca_secret_key
    if endpoint is not None:
        url = endpoint.base_url or url
        key_id, secret_key = endpoint.key_id or key_id, endpoint.secret_key or secret_key
    if config.provider == "binance":
        return Binance(base_url=url, page_limit=options.page_limit)
    return Alpaca(base_url=url, key_id=key_id, secret_key=secret_key,
                  page_limit=options.page_limit, feed=options.feed)  # fmt: skip

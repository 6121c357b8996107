"""The single source of configuration.

Settings come from the environment and a ``.env`` file, are read once at an entry
point with :func:`load_settings`, and are passed down as one typed object. Nothing
reads the environment at import time.

Where the PostgreSQL connection comes from, highest precedence first:

1. a build script's positional arguments (``user host port``; never a password);
2. the libpq variables ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``;
3. ``DATABASE_URL`` (``postgresql://user:password@host:port/database``);
4. the embedded server the project manages itself (``.local/postgres``), used when
   none of ``PGHOST``, ``PGPORT`` or ``DATABASE_URL`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from src.utils.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SRC_PATH = PROJECT_ROOT / "src"
DEFAULT_EMBEDDED_PORT = 54329
DEFAULT_USER = "postgres"
DEFAULT_DATABASE = "postgres"


class Settings(BaseSettings):
    """Every setting the project reads, with the environment variable that sets it."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_nested_delimiter="__",  # MEDALLION_SOURCE__<NAME>__<SETTING> (sources below)
    )

    engine_type: str = Field("postgres", validation_alias="MEDALLION_ENGINE_TYPE")
    database_url: SecretStr | None = Field(None, validation_alias="DATABASE_URL")
    pg_host: str | None = Field(None, validation_alias="PGHOST")
    pg_port: int | None = Field(None, ge=1, le=65535, validation_alias="PGPORT")
    pg_user: str | None = Field(None, validation_alias="PGUSER")
    pg_password: SecretStr | None = Field(None, validation_alias="PGPASSWORD")
    pg_database: str | None = Field(None, validation_alias="PGDATABASE")
    pg_passfile: Path | None = Field(None, validation_alias="PGPASSFILE")
    log_level: str = Field("INFO", validation_alias="MEDALLION_LOG_LEVEL")
    # The environment a command works in: project demo lives in database demo__<env>
    # (src._base.build.project.warehouse_database); unset: in database demo. --env wins.
    env: str | None = Field(None, validation_alias="MEDALLION_ENV")
    src_path: Path = Field(SRC_PATH, validation_alias="MEDALLION_SRC_PATH")
    allow_remote_rebuild: bool = Field(False, validation_alias="MEDALLION_ALLOW_REMOTE_REBUILD")
    engine: str = Field("spark", validation_alias="MEDALLION_ENGINE")  # transforms' engine
    spark_master: str = Field("local[2]", validation_alias="MEDALLION_SPARK_MASTER")
    spark_shuffle_partitions: int = Field(
        4, ge=1, validation_alias="MEDALLION_SPARK_SHUFFLE_PARTITIONS"
    )
    spark_driver_memory: str = Field("2g", validation_alias="MEDALLION_SPARK_DRIVER_MEMORY")
    jdbc_jar: Path | None = Field(None, validation_alias="MEDALLION_JDBC_JAR")
    # Spark's own console output (JVM warnings, log4j lines) goes here, not to the terminal.
    spark_log: Path = Field(
        PROJECT_ROOT / ".local" / "logs" / "spark.log", validation_alias="MEDALLION_SPARK_LOG"
    )
    spark_writer: Literal["copy", "jdbc"] = Field("copy", validation_alias="MEDALLION_SPARK_WRITER")
    # On a cluster: the executors' Python (default this interpreter's path: right where
    # the workers run the same image or machine), a packed environment they unpack
    # ("env.tar.gz#env", with MEDALLION_SPARK_PYTHON=./env/bin/python), and the address
    # the driver binds and the executors call back (default: Spark's choice).
    spark_python: str | None = Field(None, validation_alias="MEDALLION_SPARK_PYTHON")
    spark_archives: str | None = Field(None, validation_alias="MEDALLION_SPARK_ARCHIVES")
    spark_driver_host: str | None = Field(None, validation_alias="MEDALLION_SPARK_DRIVER_HOST")
    # A long-lived Spark Connect server (sc://host:port) the jobs talk to instead of
    # starting a JVM each: `scripts/spark_connect.py` runs one for this project.
    spark_remote: str | None = Field(None, validation_alias="MEDALLION_SPARK_REMOTE")
    # The project's Connect server runs a few small queries before it is called ready,
    # so the first jobs find Spark's code compiled (src.utils.spark_connect.warm_up).
    spark_connect_warm_up: bool = Field(True, validation_alias="MEDALLION_SPARK_CONNECT_WARM_UP")
    landing_dir: Path = Field(
        PROJECT_ROOT / ".local" / "landing", validation_alias="MEDALLION_LANDING_DIR"
    )
    # The database of a PostgresSource that names none, on the warehouse's server.
    source_database: str = Field("demo_source", validation_alias="MEDALLION_SOURCE_DATABASE")
    # Declared sources' settings: MEDALLION_SOURCE__ERP__HOST=... gives {"erp": {"host": ...}}
    # (src._base.sources.resolve); every value is secret-typed so none is ever shown.
    # A tenant's own settings nest one level deeper: MEDALLION_SOURCE__ERP__ACME__HOST.
    sources: dict[str, dict[str, SecretStr | dict[str, SecretStr]]] = Field(
        default_factory=dict, validation_alias="MEDALLION_SOURCE"
    )
    # The connections store's Fernet keys, newest first (src._base.sources.store).
    connections_key: SecretStr | None = Field(None, validation_alias="MEDALLION_CONNECTIONS_KEY")
    connections_key_file: Path | None = Field(
        None, validation_alias="MEDALLION_CONNECTIONS_KEY_FILE"
    )
    airflow_home: Path = Field(
        PROJECT_ROOT / ".local" / "airflow", validation_alias="MEDALLION_AIRFLOW_HOME"
    )
    # The DAG folder local Airflow reads (default: the project's airflow/dags).
    dags_folder: Path | None = Field(None, validation_alias="MEDALLION_DAGS_FOLDER")
    connect_timeout: int = Field(5, ge=1, le=300, validation_alias="MEDALLION_CONNECT_TIMEOUT")
    embedded_dir: Path = Field(
        PROJECT_ROOT / ".local" / "postgres",
        validation_alias=AliasChoices("MEDALLION_EMBEDDED_DIR"),
    )
    # API keys of scripts/serve.py (name:sha256 lines, a file only its owner reads); unset:
    # the API serves without keys.
    api_keys: Path | None = Field(None, validation_alias="MEDALLION_API_KEYS")
    # The API role's password (the build writes it, scripts/serve.py reads it; libpq format).
    api_passfile: Path = Field(
        PROJECT_ROOT / ".local" / "api" / "pgpass", validation_alias="MEDALLION_API_PASSFILE"
    )
    # Market-data vendors: where to reach them (tests and proxies point elsewhere) and keys.
    binance_base_url: str = Field(
        "https://api.binance.com", validation_alias="MEDALLION_BINANCE_BASE_URL"
    )
    alpaca_base_url: str = Field(
        "https://data.alpaca.markets", validation_alias="MEDALLION_ALPACA_BASE_URL"
    )
    # The symbols the collector DAG (demo_prices) prices each minute: "BTCUSDT,ETHUSDT".
    collect_symbols: str | None = Field(None, validation_alias="MEDALLION_COLLECT_SYMBOLS")
    alpaca_key_id: SecretStr | None = Field(None, validation_alias="MEDALLION_ALPACA_KEY_ID")
    alpaca_secret_key: SecretStr | None = Field(
        None, validation_alias="MEDALLION_ALPACA_SECRET_KEY"
    )
    # How long a bronze DAG's load waits for its source (seconds; 0: no waiting, the load
    # runs and fails if the source is not ready), and how often its sensor checks.
    source_wait: float = Field(12 * 3600.0, ge=0, validation_alias="MEDALLION_SOURCE_WAIT")
    source_poke: float = Field(300.0, gt=0, validation_alias="MEDALLION_SOURCE_POKE")
    # How long a migration waits for another one of the same database before giving up.
    migration_lock_wait: float = Field(60.0, ge=0, validation_alias="MEDALLION_MIGRATION_LOCK_WAIT")
    embedded_port: int = Field(
        DEFAULT_EMBEDDED_PORT, ge=1024, le=65535, validation_alias="MEDALLION_EMBEDDED_PORT"
    )

    @property
    def uses_embedded_server(self) -> bool:
        """True when no server is configured, so the project runs its own."""
        return self.pg_host is None and self.pg_port is None and self.database_url is None


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and as whom to connect. The password never appears in ``repr`` or logs."""

    host: str
    port: int
    user: str
    database: str
    password: SecretStr | None = field(default=None, repr=False)
    embedded: bool = False
    connect_timeout: int = 5

    def describe(self, database: str | None = None) -> str:
        """``user@host:port/db``: safe to log."""
        return f"{self.user}@{self.host}:{self.port}/{database or self.database}"

    def with_database(self, database: str) -> ConnectionSettings:
        return replace(self, database=database)


def load_settings(env_file: Path | str | None = ".env", **overrides: object) -> Settings:
    """Read the settings once; invalid values fail naming the variable and where it was read."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(part) for part in err["loc"])
            value = err.get("input")
            shown = "<hidden>" if "PASSWORD" in name or "URL" in name else repr(value)
            lines.append(f"{name}={shown}: {err['msg']}")
        where = f"the environment and {Path(env_file).resolve()}" if env_file else "the environment"
        raise ConfigError(
            "Invalid setting(s) read from "
            + where
            + ": "
            + "; ".join(lines)
            + ". Fix or unset the variable(s) named."
        ) from None


def parse_database_url(url: str, setting: str = "DATABASE_URL") -> dict[str, object]:
    """The parts a ``postgresql://user:password@host:port/database`` URL gives."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ConfigError(
            f"{setting} has scheme '{parts.scheme}', expected postgresql://user:password@host:"
            f"port/database. Fix {setting}, or unset it and give the parts one by one."
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{setting} has an invalid port. Fix {setting}.") from None
    found: dict[str, object] = {
        "host": parts.hostname,
        "port": port,
        "user": unquote(parts.username) if parts.username else None,
        "password": SecretStr(unquote(parts.password)) if parts.password else None,
        "database": parts.path.lstrip("/") or None,
    }
    return {key: value for key, value in found.items() if value is not None}


def read_pgpass(path: Path, host: str, port: int, database: str, user: str) -> SecretStr | None:
    """Return the password a libpq ``.pgpass`` file holds for this connection, if any."""
    if not path.is_file():
        return None
    wanted = (host, str(port), database, user)
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.replace("\\:", ":") for f in _split_pgpass(line)]
        if len(fields) == 5 and all(f in ("*", w) for f, w in zip(fields[:4], wanted, strict=True)):
            return SecretStr(fields[4])
    return None


def _split_pgpass(line: str) -> list[str]:
    fields, current, escaped = [], "", False
    for char in line:
        if escaped:
            current, escaped = current + ("\\" + char if char == ":" else char), False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append(current)
            current = ""
        else:
            current += char
    return [*fields, current]


def embedded_passfile(settings: Settings) -> Path:
    """Where the embedded server keeps its generated superuser password (libpq format)."""
    return settings.embedded_dir / "pgpass"


def resolve_connection(
    settings: Settings,
    *,
    user: str | None = None,
    host: str | None = None,
    port: int | None = None,
    database: str | None = None,
) -> ConnectionSettings:
    """Combine command-line values, the environment and DATABASE_URL into one connection."""
    if settings.uses_embedded_server and host is None and port is None:
        return _embedded_connection(settings, user=user, database=database)
    values: dict[str, object] = {"host": "localhost", "port": 5432}
    values["user"], values["database"] = DEFAULT_USER, DEFAULT_DATABASE
    if settings.database_url is not None:
        values.update(parse_database_url(settings.database_url.get_secret_value()))
    env = {
        "host": settings.pg_host,
        "port": settings.pg_port,
        "user": settings.pg_user,
        "password": settings.pg_password,
        "database": settings.pg_database,
    }
    values.update({k: v for k, v in env.items() if v is not None})
    cli = {"host": host, "port": port, "user": user, "database": database}
    values.update({k: v for k, v in cli.items() if v is not None})
    conn = ConnectionSettings(connect_timeout=settings.connect_timeout, **values)  # type: ignore
    if conn.password is None:
        passfile = settings.pg_passfile or Path.home() / ".pgpass"
        password = read_pgpass(passfile, conn.host, conn.port, conn.database, conn.user)
        conn = replace(conn, password=password)
    return conn


def _embedded_connection(
    settings: Settings, *, user: str | None, database: str | None
) -> ConnectionSettings:
    host, port = "127.0.0.1", settings.embedded_port
    superuser = user or settings.pg_user or DEFAULT_USER
    db = database or settings.pg_database or DEFAULT_DATABASE
    password = read_pgpass(embedded_passfile(settings), host, port, db, superuser)
    return ConnectionSettings(
        host=host,
        port=port,
        user=superuser,
        database=db,
        password=password,
        embedded=True,
        connect_timeout=settings.connect_timeout,
    )


def require_password(conn: ConnectionSettings, settings: Settings) -> str:
    """The password, for clients that cannot read a pgpass file (Spark's JDBC source)."""
    if conn.password is not None:
        return conn.password.get_secret_value()
    if conn.embedded:
        raise ConfigError(
            f"No password for {conn.describe()} in the embedded server's pgpass file "
            f"{embedded_passfile(settings)}: it holds the superuser 'postgres' only. Unset "
            "PGUSER, or start the server first (make pg-start)."
        )
    tried = ["PGPASSWORD", "DATABASE_URL", f"PGPASSFILE or {Path.home() / '.pgpass'}"]
    raise ConfigError(
        f"No password for {conn.describe()}. Tried: {', '.join(tried)}. "
        "Set PGPASSWORD in the environment or .env, or add a line to your pgpass file."
    )

"""What every command-line entry point shares: positional arguments and one error boundary."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from src.config import Settings, load_settings
from src.utils.errors import ConfigError, MedallionError
from src.utils.log import configure_logging

log = logging.getLogger(__name__)

SUPPORTED_ENGINES = ("postgres",)


@dataclass(frozen=True)
class BuildArgs:
    """The positional parameters every build script accepts, in this order."""

    engine_type: str
    db_name: str | None
    log_level: str
    user: str | None
    host: str | None
    port: int | None


# A db_name meaning every discovered project (so later positionals can still be given).
ALL_PROJECTS = ("", "all")


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """``engine_type db_name log_level user host port``: all optional, no password."""
    parser.add_argument(
        "engine_type", nargs="?", default=None, help="database engine (only 'postgres' for now)"
    )
    parser.add_argument(
        "db_name",
        nargs="?",
        default=None,
        help="database project to act on (default, '' or 'all': every project found)",
    )
    parser.add_argument(
        "log_level", nargs="?", default=None, help="DEBUG, INFO, WARNING or ERROR (default INFO)"
    )
    parser.add_argument("user", nargs="?", default=None, help="PostgreSQL user (default PGUSER)")
    parser.add_argument("host", nargs="?", default=None, help="server host (default PGHOST)")
    parser.add_argument("port", nargs="?", type=int, default=None, help="port (default PGPORT)")
    parser.epilog = (
        "Defaults come from the environment and .env (PGHOST, PGPORT, PGUSER, DATABASE_URL); "
        "with none set, the project's embedded PostgreSQL is used. The password is never a "
        "command-line argument: use PGPASSWORD, DATABASE_URL or a pgpass file."
    )


def resolve_build_args(namespace: argparse.Namespace, settings: Settings) -> BuildArgs:
    engine = namespace.engine_type or settings.engine_type
    if engine not in SUPPORTED_ENGINES:
        raise ConfigError(
            f"Unknown engine_type '{engine}'. Supported: {', '.join(SUPPORTED_ENGINES)}. "
            "Pass 'postgres' as the first argument or set MEDALLION_ENGINE_TYPE."
        )
    return BuildArgs(
        engine_type=engine,
        db_name=None if namespace.db_name in ALL_PROJECTS else namespace.db_name,
        log_level=namespace.log_level or settings.log_level,
        user=namespace.user,
        host=namespace.host,
        port=namespace.port,
    )


def run_main(
    body: Callable[[argparse.Namespace, Settings], int],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
) -> int:
    """Parse, read settings once, configure logging, run ``body``; exit 0 or 1.

    A :class:`MedallionError` becomes one log line (its traceback only at DEBUG).
    """
    namespace = parser.parse_args(argv)
    configure_logging("INFO")
    try:
        settings = load_settings()
        level = getattr(namespace, "log_level", None) or settings.log_level
        configure_logging(level)
        return body(namespace, settings)
    except MedallionError as exc:
        log.error("%s", exc)
        log.debug("traceback", exc_info=True)
        return 1
    except KeyboardInterrupt:
        log.error("interrupted")
        return 1

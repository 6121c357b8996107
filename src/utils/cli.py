"""What every command-line entry point shares: positional arguments and one error boundary."""

from __future__ import annotations

import argparse
import logging
import re
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

    Every error becomes one log line naming its cause (:func:`one_line`), its traceback
    only at DEBUG; an argument argparse refuses (it prints why) exits 1 as well.
    """
    try:
        namespace = parser.parse_args(argv)
    except SystemExit as exc:  # --help exits 0; a refused argument, argparse's 2
        return 0 if exc.code in (0, None) else 1
    configure_logging("INFO")
    try:
        settings = load_settings()
        level = getattr(namespace, "log_level", None) or settings.log_level
        configure_logging(level)
        return body(namespace, settings)
    except KeyboardInterrupt:
        log.error("interrupted")
        return 1
    except Exception as exc:  # the one boundary: what escaped becomes one line
        log.error("%s", one_line(exc))
        log.debug("traceback", exc_info=True)
        return 1


_CAUSE = re.compile(r"[A-Z]\w*(Error|Exception): ")


def one_line(exc: BaseException) -> str:
    """An error as the user reads it: the project's own errors as they are; a database's
    or Spark's by their first line and what to do; anything else named as a bug."""
    if isinstance(exc, MedallionError):
        return str(exc)
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), repr(exc))
    kind = type(exc).__name__
    module = type(exc).__module__ or ""
    if module.startswith("psycopg2"):
        return (
            f"The database said: {first} ({kind}). If the server went away, start it again "
            "(make pg-start) and rerun: an interrupted load is recovered by the next run. "
            "--log-level DEBUG shows the traceback."
        )
    if module.startswith(("pyspark", "py4j")):
        # a Python worker's error names its cause on a line of its own, further down
        cause = next(
            (line.strip() for line in str(exc).splitlines() if _CAUSE.match(line.strip())), ""
        )
        return (
            f"Spark failed: {first[:400]}{f' {cause[:300]}' if cause else ''} ({kind}). Its "
            "own log has the details; --log-level DEBUG shows the traceback."
        )
    return (
        f"Unexpected error: {kind}: {first[:400]}. This is a bug in the framework or a "
        "transform; --log-level DEBUG shows the traceback to report."
    )

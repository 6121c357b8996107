from __future__ import annotations

import argparse
import logging
from datetime import date

import psycopg2
import pytest

from src.config import Settings
from src.utils.cli import add_build_arguments, resolve_build_args, run_main
from src.utils.errors import ConfigError, MedallionError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_build_arguments(p)
    return p


def test_positional_arguments_in_canonical_order() -> None:
    ns = parser().parse_args(["postgres", "demo", "DEBUG", "etl", "db.local", "6543"])
    args = resolve_build_args(ns, Settings(_env_file=None))  # type: ignore[call-arg]
    assert (args.engine_type, args.db_name, args.log_level) == ("postgres", "demo", "DEBUG")
    assert (args.user, args.host, args.port) == ("etl", "db.local", 6543)


def test_all_positionals_are_optional() -> None:
    args = resolve_build_args(parser().parse_args([]), Settings(_env_file=None))  # type: ignore
    assert args.engine_type == "postgres" and args.db_name is None and args.log_level == "INFO"


def test_unknown_engine_is_refused_with_the_supported_list() -> None:
    with pytest.raises(ConfigError, match=r"Unknown engine_type 'mysql'\. Supported: postgres"):
        resolve_build_args(parser().parse_args(["mysql"]), Settings(_env_file=None))  # type: ignore


def test_error_boundary_logs_one_line_and_returns_1(caplog: pytest.LogCaptureFixture) -> None:
    def body(ns: argparse.Namespace, settings: Settings) -> int:
        raise MedallionError("the thing broke; do this to fix it")

    with caplog.at_level(logging.INFO):
        assert run_main(body, parser(), []) == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["the thing broke; do this to fix it"]
    assert all(r.exc_info is None for r in errors)


def test_help_documents_the_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in ("engine_type", "db_name", "log_level", "user", "host", "port", "PGPASSWORD"):
        assert name in out


def test_a_refused_argument_exits_1_saying_why(capsys: pytest.CaptureFixture[str]) -> None:
    date_parser = argparse.ArgumentParser(prog="run")
    date_parser.add_argument("--date", type=date.fromisoformat, required=True)

    def body(ns: argparse.Namespace, settings: Settings) -> int:
        raise AssertionError("never reached")

    assert run_main(body, date_parser, ["--date", "2026-13-01"]) == 1
    assert "invalid fromisoformat value: '2026-13-01'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            psycopg2.OperationalError("server closed the connection unexpectedly\n\tThis..."),
            "The database said: server closed the connection unexpectedly (OperationalError). "
            "If the server went away, start it again",
        ),
        (ValueError("bad\nmore"), "Unexpected error: ValueError: bad. This is a bug"),
    ],
)
def test_other_errors_become_one_line_with_the_traceback_at_debug(
    caplog: pytest.LogCaptureFixture, error: Exception, expected: str
) -> None:
    def body(ns: argparse.Namespace, settings: Settings) -> int:
        raise error

    with caplog.at_level(logging.INFO):
        assert run_main(body, parser(), []) == 1
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert line.getMessage().startswith(expected) and "\n" not in line.getMessage()
    assert line.exc_info is None

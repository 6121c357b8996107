from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from src.utils.errors import ConfigError
from src.utils.log import configure_logging, parse_level


def test_levels_parse_case_insensitively() -> None:
    assert parse_level("debug") == logging.DEBUG
    assert parse_level(" Info ") == logging.INFO
    assert parse_level(30) == 30


def test_unknown_level_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'DEBUG'"):
        parse_level("DEBG")


def test_configuring_twice_does_not_duplicate_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    configure_logging("INFO")
    logging.getLogger("medallion.test").info("once")
    assert capsys.readouterr().err.count("once") == 1


def test_non_ascii_survives_an_ascii_terminal() -> None:
    code = (
        "import logging; from src.utils.log import configure_logging; "
        "configure_logging('INFO'); logging.getLogger('x').info('Société Générale €')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env={"PYTHONIOENCODING": "ascii", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert b"Soci\\xe9t\\xe9" in proc.stderr

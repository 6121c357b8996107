"""Logging set-up shared by every entry point."""

from __future__ import annotations

import difflib
import logging
import sys

from src.utils.errors import ConfigError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_DATE_FORMAT = "%H:%M:%S"


def parse_level(level: str | int) -> int:
    """Turn ``"info"``/``"INFO"``/``20`` into a logging level, or fail naming the allowed ones."""
    if isinstance(level, int):
        return level
    name = level.strip().upper()
    if name in LEVELS:
        return logging.getLevelName(name)
    hint = difflib.get_close_matches(name, LEVELS, n=1)
    did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
    raise ConfigError(f"Unknown log level '{level}'.{did_you_mean} Allowed: {', '.join(LEVELS)}.")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str | int = "INFO") -> None:
    """Send readable log lines to stderr; safe for any character the terminal cannot encode.

    Call it once, at an entry point. Calling it again replaces the handler, so
    tests and nested entry points do not duplicate lines.
    """
    numeric = parse_level(level)
    if hasattr(sys.stderr, "reconfigure"):
        # A non-UTF-8 terminal must not turn an instrument name like "Société" into a crash.
        sys.stderr.reconfigure(errors="backslashreplace")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(_FORMAT, _DATE_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_medallion", False)]:
        root.removeHandler(old)
    handler._medallion = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    for noisy in ("py4j", "urllib3", "sqlalchemy.engine", "httpx"):  # a line per request
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))


def keep_project_logs(level: str | int = "INFO") -> None:
    """Show the project's own log lines (loggers under ``src``) on stderr at ``level``,
    whatever the root logger became: Airflow's set-up replaces the root's handlers and
    raises its level to WARNING, which would hide a task's dates and row counts."""
    project = logging.getLogger("src")
    for old in [h for h in project.handlers if getattr(h, "_medallion", False)]:
        project.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(_FORMAT, _DATE_FORMAT))
    handler._medallion = True  # type: ignore[attr-defined]
    project.addHandler(handler)
    project.setLevel(parse_level(level))
    # The root's console handlers (Airflow's, on stdout) leave the project's lines to this
    # one, so none shows twice; other handlers (a test's capture) still see them all.
    consoles = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    for other in logging.getLogger().handlers:
        if (
            isinstance(other, logging.StreamHandler)
            and not getattr(other, "_medallion", False)
            and getattr(other, "stream", None) in consoles
            and not any(isinstance(f, _NotProject) for f in other.filters)
        ):
            other.addFilter(_NotProject())


class _NotProject(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "src" or record.name.startswith("src."))

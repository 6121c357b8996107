"""Manage the project's embedded PostgreSQL: ``start``, ``stop``, ``status`` or ``reset``.

    python scripts/local_postgres.py start    # initialise on first use, then start
    python scripts/local_postgres.py stop
    python scripts/local_postgres.py status   # exit 0 when running, 1 when not
    python scripts/local_postgres.py reset    # stop and delete its data

Settings: MEDALLION_EMBEDDED_DIR (default .local/postgres), MEDALLION_EMBEDDED_PORT
(default 54329).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from src.config import Settings
from src.utils.cli import run_main
from src.utils.embedded_postgres import EmbeddedPostgres

log = logging.getLogger("local_postgres")


def _body(args: argparse.Namespace, settings: Settings) -> int:
    server = EmbeddedPostgres.from_settings(settings)
    if args.action == "start":
        server.start()
        log.info("connect with: %s", server.psql_hint())
        return 0
    if args.action == "stop":
        if not server.stop():
            log.info("embedded PostgreSQL was not running (%s)", server.data_dir)
        return 0
    if args.action == "reset":
        server.destroy()
        log.info("embedded PostgreSQL stopped and its data deleted (%s)", server.state_dir)
        return 0
    running = server.is_running()
    state = f"running on 127.0.0.1:{server.running_port()}" if running else "stopped"
    log.info("embedded PostgreSQL %s (data: %s)", state, server.data_dir)
    if running:
        log.info("connect with: %s", server.psql_hint())
    return 0 if running else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop", "status", "reset"))
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""The main job (``make demo``): bring up the warehouse on the configured or embedded server.

Today it starts (or reuses) the server and checks it can be reached; the build and the
daily pipeline join it as they land. It ends by printing how to connect with psql.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from src.config import Settings, resolve_connection
from src.utils.cli import run_main
from src.utils.connections import check_connection, ensure_server
from src.utils.embedded_postgres import EmbeddedPostgres

log = logging.getLogger("demo")


def _body(args: argparse.Namespace, settings: Settings) -> int:
    conn = ensure_server(settings)
    version = check_connection(conn)
    log.info("PostgreSQL %s reachable at %s", version, conn.describe())
    log.info("not yet part of the main job: the warehouse build and the daily pipeline")
    if conn.embedded:
        hint = EmbeddedPostgres.from_settings(settings).psql_hint()
        log.info("connect with: %s   (stop it with: make pg-stop)", hint)
    else:
        log.info("configured server: %s", resolve_connection(settings).describe())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log_level", nargs="?", default=None, help="DEBUG, INFO, ...")
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

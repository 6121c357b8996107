"""The main job (``make demo``): build the warehouse on the configured or embedded server.

Starts (or reuses) the embedded PostgreSQL when no server is configured, builds every
database project (the same steps as ``orchestrate_build.py``), prints the build report
and how to connect. The daily bronze → silver → gold pipeline joins this job when it lands.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from src._base.build.report import render_report
from src._base.build.steps import ALL_STEPS, BuildContext, run_steps
from src.config import Settings
from src.utils.cli import run_main
from src.utils.connections import ensure_server
from src.utils.embedded_postgres import EmbeddedPostgres

log = logging.getLogger("demo")


def _body(args: argparse.Namespace, settings: Settings) -> int:
    conn = ensure_server(settings)  # starts the embedded server if needed, checks the connection
    log.info("PostgreSQL reachable at %s", conn.describe())
    results = run_steps(BuildContext(conn=conn, src_path=settings.src_path), ALL_STEPS, None)
    sys.stdout.write(render_report(results) + "\n")
    log.info("not yet part of the main job: the daily bronze -> silver -> gold pipeline")
    if conn.embedded:
        hint = EmbeddedPostgres.from_settings(settings).psql_hint()
        log.info("connect with: %s -d demo   (stop the server with: make pg-stop)", hint)
    return 0 if all(r.ok for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log_level", nargs="?", default=None, help="DEBUG, INFO, ...")
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

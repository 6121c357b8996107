"""The command line of the build scripts: ``engine_type db_name log_level user host port``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from functools import partial

from src._base.build.databases import drop_database
from src._base.build.discovery import select_projects
from src._base.build.project import check_env, warehouse_database
from src._base.build.report import render_report
from src._base.build.steps import BuildContext, Step, run_steps
from src.config import ConnectionSettings, Settings
from src.utils.cli import add_build_arguments, resolve_build_args, run_main
from src.utils.connections import ensure_server
from src.utils.errors import ConfigError

log = logging.getLogger(__name__)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _is_local(conn: ConnectionSettings) -> bool:
    return conn.embedded or conn.host in LOCAL_HOSTS or conn.host.startswith("/")


def rebuild(
    context: BuildContext, database_name: str | None, times: int, settings: Settings
) -> None:
    """Drop the selected databases so the steps recreate them; guarded for remote servers."""
    names = [
        warehouse_database(name, context.env)
        for name in sorted(select_projects(context.src_path, database_name))
    ]
    if not _is_local(context.conn) and times < 2 and not settings.allow_remote_rebuild:
        raise ConfigError(
            f"Refusing to rebuild on {context.conn.host}:{context.conn.port}, which is not a "
            f"local server: it would drop database(s) {', '.join(names)} and all their data. "
            "Repeat the flag (--rebuild --rebuild) or set MEDALLION_ALLOW_REMOTE_REBUILD=1."
        )
    log.warning("rebuild: dropping database(s) %s on %s", ", ".join(names), context.conn.describe())
    for name in names:
        if drop_database(context.conn, name):
            log.warning("rebuild: dropped database %s", name)


def _body(steps: tuple[Step, ...], ns: argparse.Namespace, settings: Settings) -> int:
    args = resolve_build_args(ns, settings)
    conn = ensure_server(settings, user=args.user, host=args.host, port=args.port)
    env = check_env(ns.env or settings.env)
    context = BuildContext(conn, settings.src_path, api_passfile=settings.api_passfile, env=env)
    if getattr(ns, "rebuild", 0):
        rebuild(context, args.db_name, ns.rebuild, settings)
    results = run_steps(context, steps, args.db_name)
    sys.stdout.write(render_report(results) + "\n")
    return 0 if all(r.ok for r in results) else 1


def build_main(
    steps: tuple[Step, ...],
    argv: Sequence[str] | None,
    *,
    description: str,
    allow_rebuild: bool = False,
) -> int:
    """Parse the shared arguments and run ``steps``; exit code 0 on success, 1 on failure."""
    parser = argparse.ArgumentParser(description=description)
    add_build_arguments(parser)
    parser.add_argument(
        "--env",
        help="environment: build project P into database P__ENV (default MEDALLION_ENV; "
        "unset: database P)",
    )
    if allow_rebuild:
        parser.add_argument(
            "--rebuild",
            action="count",
            default=0,
            help="drop and recreate the database(s) first (local servers only; repeat the "
            "flag or set MEDALLION_ALLOW_REMOTE_REBUILD=1 for another server)",
        )
    return run_main(partial(_body, steps), parser, argv)

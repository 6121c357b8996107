"""Serve a built database project over HTTP: read endpoints for its silver and gold tables.

    uv run python scripts/serve.py                          # demo, on 127.0.0.1:8000
    uv run python scripts/serve.py --database demo --port 8080 --layer silver --layer gold
    uv run python scripts/serve.py --workers 2              # two processes, one port
    uv run python scripts/serve.py --add-key risk-desk      # prints a new API key once

Connects where the build does (PGHOST/PGPORT/PGUSER, DATABASE_URL, or the embedded
server, which it starts if needed), as the read-only role the build made for the API
(``<database>_api``: SELECT on silver, gold and the load log, nothing else; its password
in MEDALLION_API_PASSFILE); passwords never go on the command line. With
API keys configured (MEDALLION_API_KEYS or --keys: a file of hashes only its owner can
read), every route but /health wants one in the X-API-Key header. The status page is at
/, metrics at /metrics, the OpenAPI document at /openapi.json, docs at /docs. Ctrl-C
stops it. Exit code 0 after a clean stop, 1 when the database or the project cannot be served.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from src._base.build.discovery import load_projects, only_project
from src.config import PROJECT_ROOT, Settings
from src.serving.keys import add_key
from src.serving.resources import SERVED_LAYERS
from src.serving.server import ServeOptions, serve
from src.utils.cli import run_main
from src.utils.errors import ConfigError

LAYERS = ("bronze", "silver", "gold", "common")


DEFAULT_KEYS = PROJECT_ROOT / ".local" / "api" / "keys"


def _body(args: argparse.Namespace, settings: Settings) -> int:
    keys_file = args.keys or settings.api_keys
    if args.add_key:
        target = keys_file or DEFAULT_KEYS
        key = add_key(target, args.add_key)
        sys.stdout.write(
            f"API key '{args.add_key}' (shown once; only its hash is kept in {target}):\n"
            f"{key}\nServe with MEDALLION_API_KEYS={target} (or --keys {target}).\n"
        )
        return 0
    layers = tuple(args.layer or SERVED_LAYERS)
    unknown = [layer for layer in layers if layer not in LAYERS]
    if unknown:
        raise ConfigError(f"--layer {unknown[0]}: not a layer. Layers: {', '.join(LAYERS)}.")
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: give 1 or more (about one per core).")
    # unknown names get a did-you-mean
    database = args.database or only_project(settings.src_path, args.project)
    [project] = load_projects(settings.src_path, args.project or database)
    options = ServeOptions(
        database, project.name, layers=layers, keys=keys_file, as_owner=args.as_owner
    )
    serve(
        settings, options, host=args.host, port=args.port, workers=args.workers,
        log_level=args.log_level,
    )  # fmt: skip
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database to serve (default: the only project found)")
    parser.add_argument(
        "--project", help="the project built into it (default: the database's name)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--layer", action="append", help="a layer to serve (repeatable; default silver, gold)"
    )
    parser.add_argument(
        "--keys", type=Path, help="API key file (default MEDALLION_API_KEYS; none: no keys)"
    )
    parser.add_argument(
        "--add-key", metavar="NAME", help="create an API key, print it once, and exit"
    )
    parser.add_argument(
        "--as-owner",
        action="store_true",
        help="connect as the build's user, not the read-only API role (not least privilege)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1; about one per spare core serves more)",
    )
    parser.add_argument("--log-level", dest="log_level", default="INFO")
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

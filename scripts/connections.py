"""Keep the settings of a project's declared sources in its warehouse, encrypted.

    python scripts/connections.py keygen .local/connections.key   # a key file (0600)
    export MEDALLION_CONNECTIONS_KEY_FILE=.local/connections.key
    python scripts/connections.py add erp --kind postgres --set host=db2 --set user=etl \\
        --set database=erp < password.txt        # secrets from stdin: password=... lines
    python scripts/connections.py list                 # no secret is ever shown
    python scripts/connections.py test [erp ...]       # does each source answer?
    python scripts/connections.py rotate               # re-encrypt with the newest key

Secrets (password, key_id, secret_key, url) are read from standard input as
``name=value`` lines (a terminal is asked for a postgres source's password), never from
the command line. ``--database`` picks the project (default: the only one found).
Exit code 0, or 1 on an error or an unreachable source.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from src._base.build.discovery import only_project
from src._base.sources import store
from src._base.sources.commands import add, check_sources, with_store, write_key_file
from src._base.sources.declared import KINDS, SECRET_SETTINGS
from src.config import Settings
from src.utils.cli import run_main
from src.utils.connections import ensure_server
from src.utils.errors import ConfigError

log = logging.getLogger(__name__)


def _pairs(items: Sequence[str], where: str) -> dict[str, str]:
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{where}: {name.strip() or item!r} is not name=value.")
        values[name.strip()] = value.strip()
    return values


def _secrets(kind: str) -> dict[str, str]:
    if sys.stdin.isatty():
        if kind != "postgres":
            return {}
        password = getpass.getpass("password (empty: none): ")
        return {"password": password} if password else {}
    return _pairs([line for line in sys.stdin.read().splitlines() if line.strip()], "stdin")


def _add(args: argparse.Namespace, settings: Settings) -> int:
    plain = _pairs(args.set, "--set")
    secret_given = sorted(set(plain) & set(SECRET_SETTINGS))
    if secret_given:
        raise ConfigError(
            f"--set {secret_given[0]}=...: secrets never go on the command line; give "
            f"{secret_given[0]}=... on standard input."
        )
    conn = ensure_server(settings)
    project = only_project(settings.src_path, args.database)
    secrets = _secrets(args.kind)
    add(conn, settings, project, args.name, args.kind, {**plain, **secrets}, args.tenant)
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    conn = ensure_server(settings)
    project = only_project(settings.src_path, args.database)
    keys = None
    if settings.connections_key or settings.connections_key_file:
        keys = store.keyring(settings.connections_key, settings.connections_key_file)
    rows = with_store(conn, settings, project, lambda raw: store.listing(raw, keys))
    for row in rows:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(row.settings.items()))
        secrets = ", ".join(row.secret_names) or "none"
        sys.stdout.write(f"{row.name}\t{row.kind}\t{shown}\tsecrets: {secrets}\n")
    if not rows:
        sys.stdout.write(f"{project}: no stored connections\n")
    return 0


def _test(args: argparse.Namespace, settings: Settings) -> int:
    conn = ensure_server(settings)
    project = only_project(settings.src_path, args.database)
    results = check_sources(conn, settings, project, args.names)
    for r in results:
        state = "reachable" if r.problem is None else f"UNREACHABLE: {r.problem}"
        sys.stdout.write(f"{r.name}\t{r.kind}\t{r.where}\t(from {r.origin})\t{state}\n")
    return 0 if all(r.problem is None for r in results) else 1


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    conn = ensure_server(settings)
    project = only_project(settings.src_path, args.database)
    keys = store.keyring(settings.connections_key, settings.connections_key_file)
    count = with_store(conn, settings, project, lambda raw: store.rotate(raw, keys))
    log.info("%s: %d stored connection(s) re-encrypted with the newest key; older keys can "
             "now be removed", project, count)  # fmt: skip
    return 0


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    conn = ensure_server(settings)
    project = only_project(settings.src_path, args.database)
    if not with_store(conn, settings, project, lambda raw: store.remove(raw, args.name)):
        raise ConfigError(f"{project}: no stored connection '{args.name}'.")
    log.info("%s: stored connection %s removed", project, args.name)
    return 0


def _keygen(args: argparse.Namespace, settings: Settings) -> int:
    held = write_key_file(args.file)
    log.info("%s: a new key first, %d key(s) in all; run rotate, then drop the older lines",
             args.file, held)  # fmt: skip
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    for name, body, help_text in (
        ("add", _add, "store a declared source's settings"),
        ("list", _list, "stored sources, without secrets"),
        ("test", _test, "resolve the sources as a run does and check each answers"),
        ("rotate", _rotate, "re-encrypt every stored secret with the newest key"),
        ("remove", _remove, "forget a stored source"),
        ("keygen", _keygen, "put a new key first in a key file (made 0600)"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(body=body)
        if name != "keygen":
            sub.add_argument("--database", help="the project (default: the only one found)")
    commands.choices["add"].add_argument("name")
    commands.choices["add"].add_argument("--kind", choices=sorted(KINDS), required=True)
    commands.choices["add"].add_argument("--tenant", help="a tenant's own settings of it")
    commands.choices["add"].add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a setting, not secret"
    )
    commands.choices["test"].add_argument("names", nargs="*")
    commands.choices["remove"].add_argument("name")
    commands.choices["keygen"].add_argument("file", type=Path)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(lambda args, settings: args.body(args, settings), parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Run Alembic for one database project, connected as the build scripts connect.

    uv run python scripts/migrate.py demo revision --autogenerate -m "add isin"
    uv run python scripts/migrate.py demo upgrade head
    uv run python scripts/migrate.py demo upgrade head --sql     # the SQL, for review
    uv run python scripts/migrate.py demo downgrade -1
    uv run python scripts/migrate.py demo current
    uv run python scripts/migrate.py demo history
    uv run python scripts/migrate.py demo -x allow_history_loss=silver.x_hist.col \\
        revision --autogenerate -m "drop col"

Everything after the project is Alembic's own command line. Revisions live in
``src/<project>/migrations/versions/``; the database is the project's (PGHOST/PGPORT/
PGUSER, DATABASE_URL, or the embedded server, which it starts if needed; passwords never
on the command line). Autogenerate knows table types: a column change on a temporal
table also rebuilds its trigger functions, view and as-of functions, and dropping a
temporal column is refused unless allowed by name. Exit code 0, or 1 with a message.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from alembic.config import CommandLine
from alembic.util import CommandError

from src._base.build.discovery import load_projects
from src._base.build.project import check_env
from src._base.migrations.revisions import alembic_config, versions_folder
from src.config import Settings
from src.utils.cli import run_main
from src.utils.errors import ConfigError

log = logging.getLogger(__name__)


def _body(args: argparse.Namespace, settings: Settings) -> int:
    if args.env:
        settings = settings.model_copy(update={"env": check_env(args.env)})
    [project] = load_projects(settings.src_path, args.database)
    alembic = CommandLine(prog=f"migrate.py {project.name}")
    if not args.command:
        alembic.parser.print_help()
        return 1
    options = alembic.parser.parse_args(args.command)
    if not hasattr(options, "cmd"):
        raise ConfigError(f"no Alembic command given after '{project.name}' (e.g. upgrade head)")
    versions_folder(project).mkdir(parents=True, exist_ok=True)
    config = alembic_config(project, cmd_opts=options)
    config.attributes["settings"] = settings
    try:
        alembic.run_cmd(config, options)
    except CommandError as exc:
        raise ConfigError(f"{project.name}: {exc}") from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--env", help="environment: migrate database <project>__<env> (default MEDALLION_ENV)"
    )
    parser.add_argument("database", help="the database project (its name)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="Alembic's command line")
    return run_main(_body, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Where a project's revisions live, which project a database holds, and stamping.

``src/<project>/migrations/versions/`` holds the revisions; the version table is
``medallion.alembic_version``, beside the framework's other tables, so it is never
compared with the project's classes. ``medallion.project`` names the project the build
made the database for: a migration refuses a database made for another one.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from src._base.build.project import LoadedProject
from src._base.functions.system_time import FRAMEWORK_SCHEMA
from src.utils.errors import ConfigError, DefinitionError

ENVIRONMENT = Path(__file__).parent / "alembic"  # env.py and the revision template
VERSION_TABLE = "alembic_version"
PROJECT_TABLE = f"{FRAMEWORK_SCHEMA}.project"


def versions_folder(project: LoadedProject) -> Path:
    return Path(project.folder) / "migrations" / "versions"


def alembic_config(
    project: LoadedProject, *, ini: Path | None = None, cmd_opts: object = None
) -> Config:
    """The Alembic configuration of ``project`` (its revisions, the shared environment)."""
    config = Config(file_=str(ini) if ini else None, cmd_opts=cmd_opts)  # type: ignore[arg-type]
    config.set_main_option("script_location", str(ENVIRONMENT))
    config.set_main_option("path_separator", "os")  # a folder's name may hold spaces
    config.set_main_option("version_locations", str(versions_folder(project)))
    config.set_main_option("medallion_project", project.name)
    config.set_section_option("post_write_hooks", "hooks", "black")
    config.set_section_option("post_write_hooks", "black.type", "console_scripts")
    config.set_section_option("post_write_hooks", "black.entrypoint", "black")
    config.set_section_option("post_write_hooks", "black.options", "-q REVISION_SCRIPT_FILENAME")
    config.attributes["project"] = project
    return config


def head_revision(project: LoadedProject) -> str | None:
    """The project's head revision, or None while it has none."""
    if not versions_folder(project).is_dir():
        return None
    heads = ScriptDirectory.from_config(alembic_config(project)).get_heads()
    if len(heads) > 1:
        raise ConfigError(
            f"{project.name} has {len(heads)} migration heads ({', '.join(heads)}): merge "
            f"them (scripts/migrate.py {project.name} merge heads -m merge) and build again."
        )
    return heads[0] if heads else None


def record_project(connection: Connection, project: str) -> None:
    """Note that the database holds ``project``; refuse one made for another project."""
    connection.execute(text(f"CREATE TABLE IF NOT EXISTS {PROJECT_TABLE} (name text PRIMARY KEY)"))
    recorded = recorded_project(connection)
    if recorded is None:
        connection.execute(text(f"INSERT INTO {PROJECT_TABLE} VALUES (:n)"), {"n": project})
    elif recorded != project:
        database = connection.execute(text("SELECT current_database()")).scalar()
        raise DefinitionError(
            f"database {database} holds project '{recorded}', not '{project}': build or "
            f"migrate '{project}' in its own database (its name is the project's)."
        )


def recorded_project(connection: Connection) -> str | None:
    """The project the build made this database for (None: not made by the build)."""
    if connection.execute(text("SELECT to_regclass(:t)"), {"t": PROJECT_TABLE}).scalar() is None:
        return None
    return connection.execute(text(f"SELECT min(name) FROM {PROJECT_TABLE}")).scalar()


def stamp_head(connection: Connection, project: LoadedProject) -> str | None:
    """Mark a database just made from the project's classes as at its head revision (the
    build does this for a new database); returns the revision stamped. A database built
    before its project had revisions stays unstamped: ``scripts/migrate.py <db> stamp
    head`` says it matches the classes, ``upgrade head`` applies every revision."""
    head = head_revision(project)
    if head is None:
        return None
    table = f"{FRAMEWORK_SCHEMA}.{VERSION_TABLE}"
    exists = connection.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar()
    if exists is not None:
        return None  # migrations keep it
    connection.execute(
        text(
            f"CREATE TABLE {table} (version_num varchar(32) NOT NULL,"
            f" CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(text(f"INSERT INTO {table} VALUES (:v)"), {"v": head})
    return head

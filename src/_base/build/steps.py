"""The build steps as data, and the loop that runs them (what every build script calls).

Each step runs per database project. A step is a function ``(context, project) ->
StepResult``; a script runs one step, ``orchestrate_build`` runs all of them in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.errors
from sqlalchemy.exc import DBAPIError

from src._base.build.databases import create_database, database_exists
from src._base.build.definitions import check_definitions
from src._base.build.discovery import load_projects
from src._base.build.project import LoadedProject, tenant_schema
from src._base.build.reference_data import load_reference_data
from src._base.build.report import StepResult, timed
from src._base.build.roles import API_SCHEMAS, ensure_api_role, ensure_tenant_role
from src._base.build.schemas import create_schemas
from src._base.build.tables import create_tables
from src.config import ConnectionSettings
from src.utils.connections import create_db_engine
from src.utils.errors import DefinitionError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildContext:
    """Where to build: the server connection and the folder holding the projects."""

    conn: ConnectionSettings
    src_path: Path
    # where the API role's generated password is kept (see roles.py); None: no API role
    api_passfile: Path | None = None
    env: str | None = None  # build into <project>__<env> (project.warehouse_database)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[BuildContext, LoadedProject], StepResult]
    description: str


def _in_database(
    action: Callable[..., StepResult], step: str
) -> Callable[[BuildContext, LoadedProject], StepResult]:
    def run(context: BuildContext, project: LoadedProject) -> StepResult:
        if not database_exists(context.conn, project.database):
            return StepResult(
                step,
                project.database,
                failed=[
                    f"database {project.database} does not exist: run build_databases.py first"
                ],
            )
        engine = create_db_engine(context.conn, project.database)
        try:
            return action(engine, project)
        finally:
            engine.dispose()

    return run


DATABASES = Step(
    "databases", lambda ctx, project: create_database(ctx.conn, project), "create databases"
)
SCHEMAS = Step("schemas", _in_database(create_schemas, "schemas"), "create schemas")
TABLES = Step(
    "tables",
    _in_database(create_tables, "tables"),
    "create tables, indexes, history triggers, views and as-of functions",
)
REFERENCE_DATA = Step(
    "reference_data",
    _in_database(load_reference_data, "reference_data"),
    "upsert reference rows",
)


def _api_role(context: BuildContext, project: LoadedProject) -> StepResult:
    result = StepResult("api_role", project.database)
    if context.api_passfile is None:
        result.warnings.append("no API passfile given: the read-only API role is not made")
        return result
    schemas = [s.name for s in project.schemas if s.name in API_SCHEMAS]
    try:
        role, new = ensure_api_role(
            context.conn.with_database(project.database), schemas, context.api_passfile
        )
    except psycopg2.errors.InsufficientPrivilege as exc:
        # A managed server may not let the build's user create roles: the warehouse is
        # still built; the API then needs a role someone grants, or --as-owner.
        reason = str(exc).strip().splitlines()[0]
        result.warnings.append(
            f"the API's read-only role was not made ({reason}): grant {context.conn.user} "
            "CREATEROLE and build again, or serve with scripts/serve.py --as-owner"
        )
        return result
    (result.created if new else result.present).append(f"role {role}")
    return result


API_ROLE = Step(
    "api_role", _api_role, "create the API's read-only role and grant it the served schemas"
)


def _tenant_roles(context: BuildContext, project: LoadedProject) -> StepResult:
    result = StepResult("tenant_roles", project.database)
    if not project.tenants:
        return result
    if context.api_passfile is None:
        result.warnings.append("no passfile given: the tenants' roles are not made")
        return result
    conn = context.conn.with_database(project.database)
    with timed(result):
        for tenant in project.tenants:
            schemas = [tenant_schema(tenant, layer) for layer in project.tenant_layers]
            try:
                role, new = ensure_tenant_role(conn, tenant, schemas, context.api_passfile)
            except psycopg2.errors.InsufficientPrivilege as exc:
                reason = str(exc).strip().splitlines()[0]
                result.failed.append(
                    f"tenant {tenant}: its role was not made ({reason}): grant "
                    f"{context.conn.user} CREATEROLE and build again"
                )
                continue
            (result.created if new else result.present).append(f"role {role}")
    return result


TENANT_ROLES = Step(
    "tenant_roles",
    _tenant_roles,
    "create each tenant's role and grant it its own schemas only",
)
DEFINITIONS = Step(
    "definitions",
    lambda ctx, project: check_definitions(project, lambda: load_projects(ctx.src_path)),
    "check definitions: conventions, foreign keys, reference rows (no database needed)",
)
# Every script runs DEFINITIONS first, whatever steps it names: a project with a
# definition error gets no DDL at all.
ALL_STEPS: tuple[Step, ...] = (
    DEFINITIONS, DATABASES, SCHEMAS, TABLES, REFERENCE_DATA, API_ROLE, TENANT_ROLES
)  # fmt: skip


def _run_step(step: Step, context: BuildContext, project: LoadedProject) -> StepResult:
    """Run one step; a database or definition error becomes the step's failure line."""
    try:
        return step.run(context, project)
    except (DBAPIError, psycopg2.Error) as exc:
        reason = " ".join(str(getattr(exc, "orig", exc)).split())
        return StepResult(step.name, project.name, failed=[f"{reason} (rolled back)"])
    except DefinitionError as exc:
        return StepResult(step.name, project.name, failed=[str(exc)])


def run_steps(
    context: BuildContext, steps: tuple[Step, ...], database_name: str | None
) -> list[StepResult]:
    """Run the definition checks, then each step, for each project in order; a failed step
    skips the rest of its project (rejected reference rows excepted)."""
    results: list[StepResult] = []
    steps = (DEFINITIONS, *(s for s in steps if s is not DEFINITIONS))
    for project in load_projects(context.src_path, database_name):
        project.env = context.env
        failed = False
        for step in steps:
            if failed:
                log.warning("%s: %s skipped after the failure above", project.database, step.name)
                continue
            log.info("%s: %s", project.database, step.description)
            result = _run_step(step, context, project)
            results.append(result)
            log.info(
                "%s: %s: %s (%.2fs)", project.database, step.name, result.summary(), result.seconds
            )
            for line in result.warnings:
                log.warning("%s: %s: %s", project.database, step.name, line)
            if not result.ok:
                for line in result.failed:
                    log.error("%s: %s: %s", project.database, step.name, line)
                # Rejected reference rows do not stop the checks that follow.
                failed = failed or step is not REFERENCE_DATA
    return results


def build_in_database(
    conn: ConnectionSettings, src_path: Path, project_name: str
) -> list[StepResult]:
    """Build one project's schemas, tables and reference rows into ``conn.database``,
    whatever its name (tests and benchmarks build a project into a throw-away database)."""
    [project] = load_projects(src_path, project_name)
    engine = create_db_engine(conn)
    try:
        steps = (create_schemas, create_tables, load_reference_data)
        return [step(engine, project) for step in steps]
    finally:
        engine.dispose()

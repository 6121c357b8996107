"""Build step: the framework's helper schema, then every schema the project declares."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine, text

from src._base.build.project import LoadedProject, Schema, tenant_schema
from src._base.build.report import StepResult, timed
from src._base.functions.system_time import FRAMEWORK_SCHEMA, framework_ddl
from src._base.naming import quote
from src._base.tables.ddl import execute_ddl


def existing_schemas(connection) -> set[str]:
    return set(connection.execute(text("SELECT nspname FROM pg_namespace")).scalars())


def tenant_copies(project: LoadedProject) -> list[Schema]:
    """Each tenant's schemas: one per data layer of the project (tenant_<id>_<layer>)."""
    layers = [s for s in project.schemas if s.name in project.tenant_layers]
    return [
        replace(s, name=tenant_schema(tenant, s.name), description=f"{s.description} ({tenant})")
        for tenant in project.tenants
        for s in layers
    ]


def create_schemas(engine: Engine, project: LoadedProject) -> StepResult:
    """One transaction: all schemas are created, or none."""
    result = StepResult("schemas", project.database)
    with timed(result), engine.begin() as connection:
        before = existing_schemas(connection)
        if FRAMEWORK_SCHEMA in before:
            result.present.append(FRAMEWORK_SCHEMA)
        else:
            result.created.append(FRAMEWORK_SCHEMA)
        for statement in framework_ddl():
            execute_ddl(connection, statement)
        for schema in [*project.schemas, *tenant_copies(project)]:
            if schema.name in before:
                result.present.append(schema.name)
                continue
            execute_ddl(connection, f"CREATE SCHEMA {quote(schema.name)}")
            if schema.description:
                comment = schema.description.replace("'", "''")
                execute_ddl(connection, f"COMMENT ON SCHEMA {quote(schema.name)} IS '{comment}'")
            result.created.append(schema.name)
    return result

"""Build step: tables in foreign-key order, then indexes, functions, triggers and views.

Everything for one database runs in one transaction: a broken definition leaves the
database exactly as it was. Objects that exist are left alone and reported as present;
a table whose columns differ from its class is reported as drift (fix: a migration).
"""

from __future__ import annotations

import graphlib
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Connection, Engine, text

from src._base.build.discovery import load_projects
from src._base.build.drift import column_drift, reflect_columns
from src._base.build.project import LoadedProject
from src._base.build.report import StepResult, timed
from src._base.tables.ddl import TableDDL, execute_ddl, render_table, table_of
from src.config import ConnectionSettings
from src.utils.cli import SUPPORTED_ENGINES
from src.utils.connections import create_db_engine
from src.utils.errors import ConfigError, DefinitionError


def table_order(models: list[type]) -> list[type]:
    """Referenced tables before the tables that reference them; a cycle names its tables."""
    by_name = {table_of(m).fullname: m for m in models}
    graph = graphlib.TopologicalSorter()
    for name, model in sorted(by_name.items()):
        targets = {fk.column.table.fullname for fk in table_of(model).foreign_keys}
        graph.add(name, *sorted(t for t in targets if t in by_name and t != name))
    try:
        return [by_name[name] for name in graph.static_order()]
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise DefinitionError(
            f"Foreign keys form a cycle: {cycle}. Break it: make one of these foreign keys "
            "nullable and add it in a later migration, or drop it."
        ) from None


def _catalog(connection: Connection) -> dict[str, set]:
    queries = {
        "tables": "SELECT schemaname || '.' || tablename FROM pg_tables",
        "views": "SELECT schemaname || '.' || viewname FROM pg_views",
        "functions": "SELECT n.nspname || '.' || p.proname FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace",
        "triggers": "SELECT n.nspname || '.' || c.relname || '.' || t.tgname FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal",
    }
    return {kind: set(connection.execute(text(sql)).scalars()) for kind, sql in queries.items()}


def _create_new_table(connection: Connection, ddl: TableDDL, result: StepResult) -> None:
    for statement in ddl.statements():
        execute_ddl(connection, statement)
    result.created.append(ddl.qualified_name.replace('"', ""))


def _complete_existing_table(
    connection: Connection, model: type, ddl: TableDDL, catalog: dict, result: StepResult
) -> None:
    """Add what is missing around an existing table (functions, triggers, views)."""
    name = ddl.qualified_name.replace('"', "")
    wanted = {"functions": ddl.functions, "triggers": ddl.triggers, "views": ddl.views}
    missing = [
        statement
        for kind, objects in wanted.items()
        for object_name, statement in objects.items()
        if object_name not in catalog[kind]
    ]
    for statement in missing:
        execute_ddl(connection, statement)
    (result.created if missing else result.present).append(name)
    table = table_of(model)
    drift = column_drift(table, catalog["columns"].get((table.schema, table.name), []))
    result.failed.extend(f"drift in {name}: {line}" for line in drift)


def create_tables(engine: Engine, project: LoadedProject) -> StepResult:
    result = StepResult("tables", project.name)
    with timed(result), engine.begin() as connection:
        catalog = _catalog(connection)
        schemas = {table_of(m).schema for m in project.models}
        catalog["columns"] = reflect_columns(connection, schemas)
        for model in table_order(project.models):
            ddl = render_table(model)
            if table_of(model).fullname in catalog["tables"]:
                _complete_existing_table(connection, model, ddl, catalog, result)
            else:
                _create_new_table(connection, ddl, result)
    return result


def create_tables_for_database(engine: Engine, src_path: Path, database_name: str) -> StepResult:
    """Create the tables of one database project in the database ``engine`` points at."""
    [project] = load_projects(src_path, database_name)
    return create_tables(engine, project)


def create_tables_for_all_databases(
    db_engine_type: str,
    user_name: str,
    host: str,
    port: int,
    src_path: Path,
    *,
    password: SecretStr | None = None,
    connect_timeout: int = 5,
) -> list[StepResult]:
    """Create the tables of every database project, each in its own database."""
    if db_engine_type not in SUPPORTED_ENGINES:
        raise ConfigError(
            f"Unknown engine_type '{db_engine_type}'. Supported: {', '.join(SUPPORTED_ENGINES)}."
        )
    server = ConnectionSettings(
        host, port, user_name, "postgres", password=password, connect_timeout=connect_timeout
    )
    results = []
    for project in load_projects(src_path):
        engine = create_db_engine(server, project.name)
        try:
            results.append(create_tables(engine, project))
        finally:
            engine.dispose()
    return results

"""Baseline for bench_build.py: SQLAlchemy's plain ``metadata.create_all`` for a project.

    PYTHONPATH=<root> python bench/create_all_baseline.py <src_path> <project> <target_db>

Imports the project's modules the way the build does, creates its schemas, then calls
``SQLModel.metadata.create_all`` (tables, FKs, indexes; no triggers, views or functions).
Connection settings come from the environment (PGHOST, PGPORT, PGUSER, PGPASSWORD).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlmodel import SQLModel

from src._base.build.discovery import load_projects
from src._base.functions.system_time import framework_ddl
from src.config import load_settings, resolve_connection
from src.utils.connections import create_db_engine


def main(argv: list[str]) -> int:
    src_path, name, target = Path(argv[0]), argv[1], argv[2]
    [project] = load_projects(src_path, name)
    engine = create_db_engine(resolve_connection(load_settings()), target)
    with engine.begin() as connection:
        for statement in framework_ddl():  # temporal defaults call medallion.system_time()
            connection.connection.cursor().execute(statement)
        for schema in project.schemas:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema.name}"')
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

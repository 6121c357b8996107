"""Naming and table-type conventions of a whole project (part of the definitions step)."""

from __future__ import annotations

from pathlib import Path

from src._base.build.project import LoadedProject
from src._base.tables.ddl import table_of
from src._base.tables.validation import Violation, location, validate_models


def project_violations(project: LoadedProject) -> list[Violation]:
    """Table-level checks plus: a table's schema matches its folder and is declared."""
    violations = validate_models(project.models)
    declared = {schema.name for schema in project.schemas}
    for model in project.models:
        table = table_of(model)
        folder = Path(location(model).split(":")[0]).parent.name
        if table.schema != folder:
            violations.append(
                Violation(
                    location(model),
                    table.fullname,
                    f"the table is in schema '{table.schema}' but its module is in "
                    f"tables/{folder}/",
                    f"set __table_args__ = {{'schema': '{folder}'}} or move the module",
                )
            )
        if table.schema not in declared:
            violations.append(
                Violation(
                    location(model),
                    table.fullname,
                    f"schema '{table.schema}' is not declared",
                    f"add schemas/{table.schema}.py with SCHEMA = Schema(name='{table.schema}')",
                )
            )
    return violations


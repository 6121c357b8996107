"""Build step run before any other: every definition error of a project, without a database.

A project's classes and data files are checked here, so the build stops before its first
DDL statement and its first message is the one that explains:

- naming and table-type conventions, schemas matching folders (``conventions.py``);
- foreign keys: to a table the project declares, and a column that table has; a key to
  another project's table names both files;
- foreign-key cycles;
- reference rows: each row typed by its class, unknown columns, rows for temporal tables.

Every problem is one report line naming the file, the class and the fix.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterator

from pydantic import ValidationError
from sqlalchemy import ForeignKey
from sqlalchemy.exc import NoReferencedColumnError, NoReferencedTableError

from src._base.build.conventions import project_violations
from src._base.build.project import LoadedProject
from src._base.build.reference_data import MANAGED, key_of, reason, validated
from src._base.build.report import StepResult, timed
from src._base.build.tables import table_order
from src._base.tables.ddl import table_of
from src._base.tables.projects import classes_declaring, project_package
from src._base.tables.table_types import TEMPORAL
from src._base.tables.validation import Violation, location
from src.utils.errors import DefinitionError, MedallionError

# Imports every project under the build's folder, so a foreign key into another project
# can name that project's file (called only when a key does not resolve).
LoadAll = Callable[[], object]


def _target(fk: ForeignKey) -> tuple[str, str]:
    table, _, column = fk.target_fullname.rpartition(".")
    return table, column


def _elsewhere(model: type, table: str) -> str | None:
    own = project_package(model.__module__)
    others = [(p, c) for p, c in classes_declaring(table) if p != own]
    if not others:
        return None
    package, found = others[0]
    return f"{location(found)} in project package {package}"


def _missing_table(model: type, fk: ForeignKey, known: list[str], load_all: LoadAll) -> tuple:
    table, _ = _target(fk)
    if not _elsewhere(model, table):
        with contextlib.suppress(MedallionError):  # a broken project is reported on its own
            load_all()
    other = _elsewhere(model, table)
    if other:
        return (
            f"foreign key {fk.parent.name} -> {fk.target_fullname} points into another "
            f"project: {table} is declared by {other}",
            "a foreign key stays within its project: declare the table in this project, "
            "or drop the foreign key",
        )
    close = difflib.get_close_matches(table, known, n=1)
    return (
        f"foreign key {fk.parent.name} -> {fk.target_fullname}: this project declares no "
        f"table {table}",
        f"did you mean {close[0]}?" if close else "declare that table, or correct foreign_key=",
    )


def _missing_column(fk: ForeignKey) -> tuple[str, str]:
    table, column = _target(fk)
    target = fk.parent.table.metadata.tables[table]
    columns = ", ".join(target.columns.keys())
    close = difflib.get_close_matches(column, list(target.columns.keys()), n=1)
    return (
        f"foreign key {fk.parent.name} -> {fk.target_fullname}: table {table} has no column "
        f"'{column}' (it has {columns})",
        f"point it at {table}.{close[0]}" if close else "point it at a column of that table",
    )


def foreign_key_problems(project: LoadedProject, load_all: LoadAll) -> list[Violation]:
    """Foreign keys that do not resolve within the project, one violation each."""
    known = sorted(table_of(m).fullname for m in project.models)
    problems = []
    for model in project.models:
        table = table_of(model)
        for fk in sorted(table.foreign_keys, key=lambda k: k.parent.name):
            try:
                fk.column  # noqa: B018 (resolves the key)
                continue
            except NoReferencedTableError:
                problem, fix = _missing_table(model, fk, known, load_all)
            except NoReferencedColumnError:
                problem, fix = _missing_column(fk)
            problems.append(Violation(location(model), table.fullname, problem, fix))
    return problems


def cycle_problems(project: LoadedProject) -> list[str]:
    try:
        table_order(project.models)
    except DefinitionError as exc:
        files = sorted({location(m) for m in project.models if table_of(m).foreign_keys})
        return [f"{exc} Tables with foreign keys are declared in: {'; '.join(files)}"]
    return []


def _row_problems(model: type, rows: list[dict], source: str) -> Iterator[str]:
    table = table_of(model)
    if getattr(model, "__table_type__", None) is TEMPORAL:
        yield (
            f"{source}: {table.fullname} ({location(model)}) is temporal; reference data "
            "belongs in reference (*_type) tables. Fix: move the rows, or drop them"
        )
        return
    for number, row in enumerate(rows, start=1):
        set_managed = sorted(set(row) & set(MANAGED))
        try:
            if set_managed:
                raise ValueError(f"sets {', '.join(set_managed)}, which the database keeps")
            validated(model, row)
        except (ValidationError, ValueError) as exc:
            yield (
                f"{source}: row {number} for {table.fullname} ({key_of(model, row)}): "
                f"{reason(exc)}. Fix: correct the row (the table's class is {location(model)})"
            )


def reference_row_problems(project: LoadedProject) -> list[str]:
    """Rows of the data files that their table classes would refuse, one line each."""
    own = {table_of(m).fullname: m for m in project.models}
    problems = []
    for model, rows in project.reference_data.items():
        source = project.data_sources[model]
        if own.get(table_of(model).fullname) is not model:
            problems.append(
                f"{source}: REFERENCE_DATA has rows for {location(model)}, which is not a "
                f"table of this project. Fix: key the rows by this project's own class"
            )
            continue
        problems.extend(_row_problems(model, rows, source))
    return problems


def check_definitions(project: LoadedProject, load_all: LoadAll) -> StepResult:
    """Every definition error of ``project``; none means the database steps may run."""
    result = StepResult("definitions", project.database)
    with timed(result):
        result.failed.extend(str(v) for v in project_violations(project))
        keys = foreign_key_problems(project, load_all)
        result.failed.extend(str(v) for v in keys)
        if not keys:
            result.failed.extend(cycle_problems(project))
        result.failed.extend(reference_row_problems(project))
        if not result.failed:
            result.present.extend(table_of(m).fullname for m in project.models)
    return result


"""Find database projects under ``src/`` and load what their modules declare.

A folder is a database project when it holds ``<folder>.py`` defining ``DATABASE``
(a :class:`DatabaseProject`): an explicit marker, so framework folders (``_base``,
``utils``) and anything else are never mistaken for one.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
import sys
import traceback
from pathlib import Path
from types import ModuleType

from sqlalchemy import Table

from src._base.build.project import DatabaseProject, LoadedProject, Schema, check_tenant
from src._base.sources.declared import check_declarations
from src.config import PROJECT_ROOT
from src.utils.errors import DefinitionError, MedallionError

log = logging.getLogger(__name__)


class UnknownDatabase(MedallionError):
    """A database name that no project under ``src/`` declares."""


def _module_name(src_path: Path, file: Path) -> str:
    relative = file.relative_to(src_path.parent).with_suffix("")
    return ".".join(relative.parts)


def _shown(file: Path) -> str:
    return str(file.relative_to(PROJECT_ROOT)) if file.is_relative_to(PROJECT_ROOT) else str(file)


def import_file(src_path: Path, file: Path) -> ModuleType:
    """Import a project module by file; a broken module is reported with its file and line."""
    name = _module_name(src_path, file)
    try:
        return importlib.import_module(name)
    except MedallionError:
        raise
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(file)]
        line = f" line {frames[-1].lineno}" if frames else ""
        sys.modules.pop(name, None)
        raise DefinitionError(
            f"Cannot import {_shown(file)}{line}: {type(exc).__name__}: {exc}. "
            "Fix the module (python -c 'import " + name + "' shows the full traceback)."
        ) from exc


def project_folders(src_path: Path) -> list[Path]:
    """Folders with a ``<folder>.py`` marker file, sorted by name."""
    return sorted(
        folder
        for folder in src_path.iterdir()
        if folder.is_dir() and (folder / f"{folder.name}.py").is_file()
    )


def _marker(src_path: Path, folder: Path) -> DatabaseProject:
    marker = folder / f"{folder.name}.py"
    declared = getattr(import_file(src_path, marker), "DATABASE", None)
    if not isinstance(declared, DatabaseProject):
        raise DefinitionError(
            f"{_shown(marker)} must define DATABASE = DatabaseProject(name=...) to mark "
            f"{_shown(folder)} as a database project."
        )
    check_declarations(declared.sources, _shown(marker))
    for tenant in declared.tenants:
        check_tenant(tenant, f"tenants= in {_shown(marker)}")
    return declared


def project_marker(src_path: Path, database: str) -> DatabaseProject:
    """What the project ``database`` declares about itself (name, sources)."""
    [folder] = select_projects(src_path, database).values()
    return _marker(src_path, folder)


def discover(src_path: Path) -> dict[str, Path]:
    """``{database name: project folder}`` for every project under ``src_path``."""
    found: dict[str, Path] = {}
    for folder in project_folders(src_path):
        project = _marker(src_path, folder)
        if project.name in found:
            raise DefinitionError(
                f"Database '{project.name}' is declared by both {_shown(found[project.name])} "
                f"and {_shown(folder)}. Rename one."
            )
        found[project.name] = folder
    return found


def select_projects(src_path: Path, database_name: str | None) -> dict[str, Path]:
    """All projects, or the named one; an unknown name suggests the closest known one."""
    projects = discover(src_path)
    if database_name is None:
        return projects
    if database_name in projects:
        return {database_name: projects[database_name]}
    hint = difflib.get_close_matches(database_name, list(projects), n=1)
    did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
    known = ", ".join(sorted(projects)) or "none"
    raise UnknownDatabase(
        f"Unknown database '{database_name}'.{did_you_mean} Known: {known} "
        f"(database projects are folders under {_shown(src_path)} with a <name>.py "
        "defining DATABASE)."
    )


def only_project(src_path: Path, database_name: str | None) -> str:
    """The named project, or the only one discovered; several: the caller must name one."""
    projects = sorted(select_projects(src_path, database_name))
    if len(projects) != 1:
        raise UnknownDatabase(
            f"Several database projects ({', '.join(projects)}): name one (--database)."
        )
    return projects[0]


def _table_models(module: ModuleType) -> list[type]:
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if obj.__module__ == module.__name__ and isinstance(getattr(obj, "__table__", None), Table)
    ]


def _schemas(src_path: Path, folder: Path) -> list[Schema]:
    schemas = []
    for file in sorted((folder / "schemas").glob("[!_]*.py")):
        declared = getattr(import_file(src_path, file), "SCHEMA", None)
        if not isinstance(declared, Schema):
            raise DefinitionError(f"{_shown(file)} must define SCHEMA = Schema(name=...).")
        schemas.append(declared)
    return schemas


def load_project(src_path: Path, folder: Path) -> LoadedProject:
    """Import every module of one project and collect schemas, tables and reference rows."""
    loaded = LoadedProject(project=_marker(src_path, folder), folder=folder)
    loaded.schemas = _schemas(src_path, folder)
    for file in sorted((folder / "tables").glob("*/[!_]*.py")):
        loaded.models.extend(_table_models(import_file(src_path, file)))
    for file in sorted((folder / "data").glob("[!_]*.py")):
        rows = getattr(import_file(src_path, file), "REFERENCE_DATA", None)
        if not isinstance(rows, dict):
            raise DefinitionError(
                f"{_shown(file)} must define REFERENCE_DATA = {{Model: [row, ...]}}."
            )
        for model, model_rows in rows.items():
            loaded.reference_data.setdefault(model, []).extend(model_rows)
            loaded.data_sources[model] = _shown(file)
    log.debug("loaded %s: %d tables", loaded.name, len(loaded.models))
    return loaded


def load_projects(src_path: Path, database_name: str | None = None) -> list[LoadedProject]:
    return [load_project(src_path, f) for f in select_projects(src_path, database_name).values()]

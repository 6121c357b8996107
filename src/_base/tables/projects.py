"""One SQLAlchemy registry, and so one ``MetaData``, per database project.

A table class belongs to the project whose package holds its module
(``<package>.tables.<schema>.<module>``, where ``<package>`` is a project folder: it
holds ``<folder>.py``). Two projects may therefore declare the same ``schema.table``, and
a foreign key resolves among its own project's tables only. Classes declared anywhere
else (tests, benchmarks, notebooks) keep SQLModel's shared metadata.

Importing a project module again (after a failed import, or a reload) replaces the
tables it declared before; a second module of the same project declaring a table that
another module already declares is a :class:`DefinitionError` naming both files.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import registry

from src.config import PROJECT_ROOT
from src.utils.errors import DefinitionError

_REGISTRIES: dict[str, registry] = {}


@functools.cache
def _is_project_package(package: str) -> bool:
    marker = f"{package}.{package.rsplit('.', 1)[-1]}"
    try:
        return importlib.util.find_spec(marker) is not None
    except (ImportError, ValueError):
        return False


def project_package(module: str) -> str | None:
    """The project package a table module belongs to, or None outside any project."""
    parts = module.split(".")
    if len(parts) < 4 or parts[-3] != "tables":
        return None
    package = ".".join(parts[:-3])
    return package if _is_project_package(package) else None


def project_registry(package: str) -> registry:
    """The project's registry (made on first use); its ``metadata`` holds the tables."""
    if package not in _REGISTRIES:
        _REGISTRIES[package] = registry(metadata=MetaData())
    return _REGISTRIES[package]


def forget_project(package: str) -> None:
    """Drop a project's registry (tests that write throw-away projects)."""
    found = _REGISTRIES.pop(package, None)
    if found is not None:
        found.dispose()
        found.metadata.clear()


def shown_file(model: type) -> str:
    """The file declaring ``model``, relative to the checkout when it is inside it."""
    try:
        path = Path(inspect.getsourcefile(model) or "?").resolve()
    except TypeError:
        return model.__module__.replace(".", "/") + ".py"
    return str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)


def classes_declaring(fullname: str) -> list[tuple[str, type]]:
    """``(package, class)`` of every imported project declaring the table ``fullname``."""
    return [
        (package, mapper.class_)
        for package, reg in sorted(_REGISTRIES.items())
        for mapper in reg.mappers
        if mapper.local_table is not None and mapper.local_table.fullname == fullname
    ]


def _fullname(namespace: dict) -> str:
    args = namespace.get("__table_args__") or {}
    options = args if isinstance(args, dict) else (args[-1] if isinstance(args[-1], dict) else {})
    schema = options.get("schema")
    return f"{schema}.{namespace['__tablename__']}" if schema else namespace["__tablename__"]


def claim_table(package: str, name: str, namespace: dict) -> bool:
    """Make room for a class about to declare its table in ``package``'s metadata.

    Returns True when an earlier import of the same class is being replaced; raises when
    another class of the project already declares the table."""
    reg = project_registry(package)
    fullname = _fullname(namespace)
    existing = reg.metadata.tables.get(fullname)
    if existing is None:
        return False
    earlier = next(m.class_ for m in reg.mappers if m.local_table is existing)
    module = namespace.get("__module__")
    if (earlier.__module__, earlier.__qualname__) != (module, namespace.get("__qualname__")):
        raise DefinitionError(
            f"Table {fullname} is declared twice in project {package}: by "
            f"{shown_file(earlier)} ({earlier.__qualname__}) and by module {module} "
            f"({name}). Keep one of them, or rename the table (__tablename__)."
        )
    reg.metadata.remove(existing)
    return True


def adopt(cls: type, package: str, replacing: bool) -> None:
    """Put ``cls`` in its project's registry before SQLAlchemy maps it."""
    reg = project_registry(package)
    cls._sa_registry = reg  # type: ignore[attr-defined]
    cls.metadata = reg.metadata  # type: ignore[attr-defined]
    cls.__medallion_replacing__ = replacing  # type: ignore[attr-defined]


@contextmanager
def mapping(cls: type) -> Iterator[None]:
    """Around SQLAlchemy's mapping of ``cls``: a re-imported class replaces its earlier
    self in the registry's name lookup, which SQLAlchemy would warn about."""
    with warnings.catch_warnings():
        if cls.__dict__.get("__medallion_replacing__", False):
            warnings.filterwarnings("ignore", category=SAWarning, message=".*same class name")
        yield

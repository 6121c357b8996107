from __future__ import annotations

from pathlib import Path

import pytest

from bench.synthetic_project import write
from src._base.build.discovery import UnknownDatabase, discover, select_projects
from src.config import SRC_PATH
from src.utils.errors import DefinitionError


def test_the_demo_project_is_found_by_its_marker() -> None:
    projects = discover(SRC_PATH)
    assert projects["demo"] == SRC_PATH / "demo"
    assert "_base" not in projects and "utils" not in projects


def test_unknown_name_suggests_and_lists_known_ones() -> None:
    with pytest.raises(UnknownDatabase, match=r"Unknown database 'dmeo'\. Did you mean 'demo'\?"):
        select_projects(SRC_PATH, "dmeo")


def test_marker_without_database_object_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    src = tmp_path / "markerless_pkg"
    write(src, "__init__.py", "")
    write(src, "shop/shop.py", "NAME = 'shop'\n")
    with pytest.raises(DefinitionError, match="must define DATABASE = DatabaseProject"):
        discover(src)

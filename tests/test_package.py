"""The package imports once, light, and never from the ``src/`` folder itself."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import src
from src.config import PROJECT_ROOT


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")


# Modules only DAG files import: they build on Airflow by design (see pyproject's TID253).
FOR_DAG_FILES = ("src.orchestration.dag_factory", "src.orchestration.operators")


def test_importing_the_framework_pulls_in_neither_spark_nor_airflow() -> None:
    framework = [
        name
        for _, name, _ in pkgutil.walk_packages(src.__path__, "src.")
        if ".transforms" not in name and name not in FOR_DAG_FILES
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {framework!r}: importlib.import_module(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'airflow'))\n"
        "print(','.join(heavy))\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_src_folder_is_not_on_sys_path_so_nothing_imports_twice() -> None:
    proc = _run("import sys, src; print('\\n'.join(sys.path))")
    paths = [Path(p).resolve() for p in proc.stdout.split() if p]
    assert PROJECT_ROOT / "src" not in paths
    proc = _run("import _base")
    assert proc.returncode != 0, "src/ leaked onto sys.path: modules would import twice"


def test_every_module_imports_under_one_name_only() -> None:
    importlib.import_module("src.config")
    twins = [
        name
        for name in sys.modules
        if name in ("_base", "utils", "config") or name.startswith(("_base.", "utils.", "config."))
    ]
    assert twins == []


def test_airflow_folder_cannot_shadow_apache_airflow() -> None:
    assert not list((PROJECT_ROOT / "airflow").rglob("__init__.py"))

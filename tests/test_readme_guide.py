"""The README's "Add a project" guide, executed: its files written to a temporary
folder, its SQL run, its commands run through each script's ``main``."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from src._base.tables.projects import forget_project
from src.config import PROJECT_ROOT, ConnectionSettings
from src.utils.connections import execute_autocommit
from tests.conftest import run_sql

pytestmark = pytest.mark.postgres

SECTION = "## Add a project, a table, a transform, a DAG, a quality check"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def guide_blocks() -> list[tuple[str, str]]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    return BLOCK.findall(readme[start:end])


def write_files(blocks, src: Path, dags: Path, package: str) -> list[Path]:
    written = []
    for lang, body in blocks:
        first = body.splitlines()[0]
        if lang != "python":
            continue
        path = first.removeprefix("# ").strip()
        root, rest = (src, path[4:]) if path.startswith("src/") else (dags, path[13:])
        assert path.startswith(("src/", "airflow/dags/")), f"a block names no file: {first}"
        target = root / rest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body.replace("src.shop", f"{package}.shop"))
        written.append(target)
    return written


def run_in_a_process(argv: list[str], root: Path, dags: Path) -> None:
    """A command as the reader runs it, with an Airflow of its own reading ``dags``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env |= {
        "MEDALLION_AIRFLOW_HOME": str(root / "airflow"),
        "MEDALLION_DAGS_FOLDER": str(dags),
        "PYTHONPATH": str(root),
    }
    done = subprocess.run(
        [sys.executable, *argv[1:]], env=env, cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"{' '.join(argv)}\n{done.stdout}\n{done.stderr[-3000:]}"
    assert "shop_bronze    2026-11-20  success" in done.stdout, done.stdout


def test_the_guide_blocks_name_their_files() -> None:
    blocks = guide_blocks()
    kinds = [lang for lang, _ in blocks]
    assert kinds.count("python") >= 10 and "sql" in kinds and "bash" in kinds
    for lang, body in blocks:
        if lang == "python":
            assert body.startswith(("# src/shop/", "# airflow/dags/")), body.splitlines()[0]


def test_the_guide_builds_and_runs_a_second_project(
    throwaway_server: ConnectionSettings, tmp_path: Path, monkeypatch, capsys
) -> None:
    server = throwaway_server
    package = f"guide_{uuid.uuid4().hex[:8]}"
    src, dags = tmp_path / package, tmp_path / "dags"
    (src).mkdir()
    (src / "__init__.py").write_text("")
    blocks = guide_blocks()
    write_files(blocks, src, dags, package)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MEDALLION_SRC_PATH", str(src))
    [(_, sql)] = [(lang, body) for lang, body in blocks if lang == "sql"]
    [(_, bash)] = [(lang, body) for lang, body in blocks if lang == "bash"]
    source_db = sql.splitlines()[0].removeprefix("-- ").strip()
    try:
        for database in ("shop", source_db):
            execute_autocommit(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        execute_autocommit(server, f'CREATE DATABASE "{source_db}"')
        run_sql(server.with_database(source_db), sql)
        for line in bash.splitlines():
            argv = shlex.split(line.split("#")[0])
            assert argv[0] == "python" and argv[1].startswith("scripts/"), line
            if argv[1] == "scripts/airflow_local.py":  # Airflow reads its folder at start
                run_in_a_process(argv, tmp_path, dags)
                continue
            script = importlib.import_module(f"scripts.{Path(argv[1]).stem}")
            assert script.main(argv[2:]) == 0, f"{line}\n{capsys.readouterr()}"
        landed = run_sql(
            server.with_database("shop"),
            "SELECT order_code, status_code FROM bronze.br_order ORDER BY 1",
        )
        assert landed == [("A-1001", "NEW"), ("A-1002", "PAID")]
        statuses = run_sql(
            server.with_database("shop"), "SELECT count(*) FROM common.order_status_type"
        )
        assert statuses == [(3,)]
    finally:
        forget_project(f"{package}.shop")
        for database in ("shop", source_db):
            execute_autocommit(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

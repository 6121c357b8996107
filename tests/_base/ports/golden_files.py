"""The generated files of a port against their golden copies (``--update-golden``
rewrites them), shared by the ports' tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest


def assert_golden(files: Mapping[str, str], folder: Path, request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--update-golden"):
        for old in folder.rglob("*"):
            if old.is_file():
                old.unlink()
        for relative, text in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
    golden = {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}
    assert sorted(golden) == sorted(files), "files added or gone: run pytest --update-golden"
    for relative, text in files.items():
        assert text == golden[relative], f"{relative} changed; see {folder / relative}"

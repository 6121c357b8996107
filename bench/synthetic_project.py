"""Write a synthetic database project of N tables (for the build benchmark and tests).

The project lives in its own importable package (``<root>/<package>/``) so it never
touches ``src/``: put ``root`` on the import path and build with ``src_path=<root>/<package>``.
Reference tables go to ``common``; transactional tables to ``silver`` with foreign keys to
earlier tables (so the order is a real dependency graph); temporal tables to ``silver``.
"""

from __future__ import annotations

import random
from pathlib import Path

HEADER = "from sqlmodel import Field\n\nfrom src._base.tables.table_type_mixins import {base}\n"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _reference(i: int) -> str:
    name = f"kind{i:04d}_type"
    return HEADER.format(base="ReferenceTableBase") + (
        f"\n\nclass {_camel(name)}(ReferenceTableBase, table=True):\n"
        '    __table_args__ = {"schema": "common"}\n'
        "    code: str = Field(max_length=16, unique=True)\n"
        "    description: str | None = None\n"
    )


def _transactional(i: int, refs: int, rng: random.Random) -> str:
    name = f"entity{i:04d}"
    lines = [
        HEADER.format(base="TransactionalTableBase") + "import uuid\n",
        f"\nclass {_camel(name)}(TransactionalTableBase, table=True):",
        '    __table_args__ = {"schema": "silver"}',
        "    label: str",
        "    amount: float | None = None",
    ]
    if refs:
        ref = rng.randrange(refs)
        lines.append(
            f"    kind{ref:04d}_type_id: int = "
            f'Field(foreign_key="common.kind{ref:04d}_type.kind{ref:04d}_type_id")'
        )
    for parent in sorted({rng.randrange(i) for _ in range(2)} if i else set()):
        lines.append(
            f"    entity{parent:04d}_id: uuid.UUID | None = "
            f'Field(default=None, foreign_key="silver.entity{parent:04d}.entity{parent:04d}_id")'
        )
    return "\n".join(lines) + "\n"


def _temporal(i: int) -> str:
    name = f"thing{i:04d}_hist"
    return HEADER.format(base="TemporalTableBase") + (
        f"\n\nclass {_camel(name)}(TemporalTableBase, table=True):\n"
        '    __table_args__ = {"schema": "silver"}\n'
        "    thing_code: str = Field(primary_key=True, max_length=32)\n"
        "    name: str\n"
        "    value: float | None = None\n"
    )


def write_project(
    root: Path,
    package: str,
    name: str,
    *,
    reference: int = 100,
    transactional: int = 700,
    temporal: int = 200,
    seed: int = 7,
) -> Path:
    """Write the project; return its ``src_path`` (``root/package``)."""
    rng = random.Random(seed)
    src = root / package
    write(src, "__init__.py", "")
    write(src, f"{name}/__init__.py", "")
    write(
        src,
        f"{name}/{name}.py",
        "from src._base.build.project import DatabaseProject\n\n"
        f'DATABASE = DatabaseProject(name="{name}")\n',
    )
    for schema in ("common", "silver"):
        write(
            src,
            f"{name}/schemas/{schema}.py",
            f'from src._base.build.project import Schema\n\nSCHEMA = Schema(name="{schema}")\n',
        )
    for i in range(reference):
        write(src, f"{name}/tables/common/kind{i:04d}_type.py", _reference(i))
    for i in range(transactional):
        write(src, f"{name}/tables/silver/entity{i:04d}.py", _transactional(i, reference, rng))
    for i in range(temporal):
        write(src, f"{name}/tables/silver/thing{i:04d}_hist.py", _temporal(i))
    return src

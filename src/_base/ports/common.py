"""What every port shares: a port's files and statuses, and reading the catalogue's SQL.

A transform's reads are PostgreSQL (:func:`parse_read` makes them portable), its steps
Spark SQL (:func:`parse`); a publication declared as data is what a port can carry
(:func:`publications`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from src._base.pipeline.shapes import MergeHistory, Publications, Read, ReplaceRows, UpsertRows
from src._base.ports.sqltext import portable_read, tokenized
from src.utils.errors import DefinitionError

PORTED, VALIDATED, NOT_PORTED = "ported", "validated only", "not ported"


class PortError(DefinitionError):
    """A transform's SQL cannot be read (it does not parse)."""


class Unportable(PortError):
    """A transform's SQL uses something with no known rendering on the target."""


@dataclass(frozen=True)
class TransformPort:
    """What one transform became on a target."""

    name: str
    layer: str
    status: str  # PORTED, VALIDATED or NOT_PORTED
    reason: str = ""  # why it is not ported, or what only the target itself can show
    path: str = ""  # its script, relative to the port's folder
    outputs: tuple[str, ...] = ()


@dataclass
class Port:
    """A generated port: its files (relative path → text) and each transform's status."""

    target: str
    files: dict[str, str] = field(default_factory=dict)
    transforms: list[TransformPort] = field(default_factory=list)

    def write(self, folder: Path) -> list[Path]:
        written = []
        for relative, text in sorted(self.files.items()):
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
        return written


def parse(sql: str, read: str, where: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(sql, read=read)
    except SqlglotError as exc:
        first = str(exc).strip().splitlines()[0]
        raise PortError(f"{where}: cannot parse it ({read}): {first}") from None


def parse_read(read: Read, where: str, relation: str | None = None, **extra: str) -> exp.Expression:
    """A read as a portable SELECT (the warehouse's history functions and infinities
    rewritten; ``SELECT * FROM (SELECT ...) q`` as its inner query). ``relation`` stands
    for the read's own; ``extra`` fills placeholders in its ``where``."""
    columns = ", ".join(read.columns) or "*"
    condition = f" WHERE {tokenized(read.where, **extra)}" if read.where else ""
    sql = f"SELECT {columns} FROM {relation or tokenized(read.relation)}{condition}"
    try:
        tree = portable_read(sql)
    except SqlglotError as exc:
        first = str(exc).strip().splitlines()[0]
        raise PortError(f"{where}: cannot parse it: {first}") from None
    return plain_select(tree)


def aliased_derived_tables(tree: exp.Expression) -> exp.Expression:
    """Every derived table in a FROM or JOIN named (``derived_1``, ...): Spark and
    Snowflake accept one without, but not every reader of the SQL does."""
    tree = tree.copy()
    taken = {node.alias.lower() for node in tree.find_all(exp.Subquery, exp.Table) if node.alias}
    number = 0
    for node in tree.find_all(exp.Subquery):
        if node.alias or not isinstance(node.parent, exp.From | exp.Join):
            continue
        number += 1
        while f"derived_{number}" in taken:
            number += 1
        node.set("alias", exp.TableAlias(this=exp.to_identifier(f"derived_{number}")))
    return tree


def plain_select(tree: exp.Expression) -> exp.Expression:
    """``SELECT * FROM (SELECT ...) q`` (a read of a derived table) as the inner query."""
    if (
        isinstance(tree, exp.Select)
        and len(tree.expressions) == 1
        and isinstance(tree.expressions[0], exp.Star)
        and not tree.args.get("where")
        and isinstance(tree.args["from_"].this, exp.Subquery)
        and not tree.args.get("joins")
    ):
        return tree.args["from_"].this.this
    return tree


def landed_columns(landed: str) -> list[str]:
    tree = sqlglot.parse_one(tokenized(landed), read="spark")
    return [projection.alias_or_name for projection in tree.selects]


def publications(publish: Any) -> list[Any] | None:
    """The parts of a publication declared as data, or None (Python)."""
    parts = list(publish.parts) if isinstance(publish, Publications) else [publish]
    portable = (ReplaceRows, UpsertRows, MergeHistory)
    return parts if all(isinstance(part, portable) for part in parts) else None

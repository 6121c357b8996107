"""A project's data-quality rules as row-level expectations of a port.

    found = expectations(rules, catalogue)      # per table: Expectation(name, condition, ...)
    found.not_ported                            # rules with no row-level form, and why

The warehouse runs its rules (:mod:`src._base.quality.rules`) after the loads, as
queries. A platform's expectations check one row at a time as it is written, so the rules
that are about one row carry over: :class:`NotNull`, :class:`AcceptedValues` and a
:class:`RowCondition` without a subquery. Each becomes a condition in Spark SQL on the
rows the transform writes for the day; its ``where`` (the day's rows of the table) stays
as a guard (``NOT (where) OR condition``), ``%(day)s`` being the run's day. Rules across
rows or tables (uniqueness, references, control totals, KPI bounds, row counts,
freshness) are listed with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from src._base.pipeline.catalogue import Catalogue
from src._base.quality.rules import AcceptedValues, NotNull, RowCondition


@dataclass(frozen=True)
class Expectation:
    """One row-level rule on a table a transform writes."""

    name: str  # a valid expectation name: letters, digits and underscores
    condition: str  # Spark SQL; true when the row passes
    fail: bool  # fail the update (a "fail" rule), or record the violation (a "warn" rule)
    rule: str  # the warehouse rule it came from


@dataclass
class Expectations:
    by_table: dict[str, list[Expectation]] = field(default_factory=dict)
    not_ported: list[tuple[str, str]] = field(default_factory=list)  # (rule, reason)


ROW_LEVEL = "it compares rows, tables or a day's totals; an expectation checks one row"


def _table_written(table: str, written: set[str]) -> str | None:
    """The output table a rule's table is (its current-state view ``x`` is ``x_hist``)."""
    if not table.strip():
        return None
    name = table.split()[0].lower()
    if name in written:
        return name
    if f"{name}_hist" in written:
        return f"{name}_hist"
    return None


def _spark(condition: str) -> str:
    """A PostgreSQL condition as Spark SQL, ``%(day)s`` as the run's day."""
    text = condition.replace("%(day)s", "'${medallion.day}'")
    text = text.replace("%(prev)s", "'${medallion.prev}'").replace("%%", "%")
    tree = sqlglot.parse_one(f"SELECT 1 WHERE {text}", read="postgres")
    where = tree.args["where"].this
    return where.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)


def _name(text: str) -> str:
    return re.sub(r"\W+", "_", text.lower()).strip("_")


def _guarded(where: str | None, condition: str) -> str:
    return f"NOT ({_spark(where)}) OR ({condition})" if where else condition


def _has_subquery(sql: str) -> bool:
    try:
        tree = sqlglot.parse_one(f"SELECT 1 WHERE {sql}", read="postgres")
    except SqlglotError:
        return True
    return any(isinstance(node, exp.Subquery | exp.Exists) for node in tree.walk()) or any(
        isinstance(node, exp.Select) and node is not tree for node in tree.walk()
    )


def _expectation(rule: Any) -> Expectation | str:
    """The rule as an expectation, or why it has none."""
    fail = rule.severity == "fail"
    if isinstance(rule, NotNull):
        condition = " AND ".join(f"{c} IS NOT NULL" for c in rule.columns)
        name = f"not_null_{'_'.join(rule.columns)}"
    elif isinstance(rule, AcceptedValues):
        allowed = ", ".join(
            str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"
            for v in rule.values
        )
        condition = f"{rule.column} IS NOT NULL AND {rule.column} IN ({allowed})"
        name = f"accepted_values_{rule.column}"
    elif isinstance(rule, RowCondition):
        if _has_subquery(rule.condition) or (rule.where and _has_subquery(rule.where)):
            return "it reads other rows or tables (a subquery); an expectation checks one row"
        condition = f"COALESCE({_spark(rule.condition)}, FALSE)"
        name = rule.name
    else:  # pragma: no cover - expectations() passes row-level rules only
        return ROW_LEVEL
    if isinstance(rule, NotNull | AcceptedValues):
        condition = _spark(condition)
    try:
        guarded = _guarded(rule.where, condition)
    except SqlglotError as exc:
        return f"its SQL has no Spark rendering ({str(exc).splitlines()[0]})"
    return Expectation(_name(name), guarded, fail, rule.rule)


def expectations(rules: Sequence[Any], catalogue: Catalogue) -> Expectations:
    """``rules`` (the project's DAGs' quality rules) as expectations on the tables the
    catalogue's transforms write."""
    written = {table.lower() for entry in catalogue.entries for table in entry.outputs}
    found = Expectations()
    for rule in rules:
        if not isinstance(rule, NotNull | AcceptedValues | RowCondition):
            found.not_ported.append((rule.rule, ROW_LEVEL))
            continue
        table = _table_written(rule.table, written)
        if table is None:
            found.not_ported.append((rule.rule, "its table is not one a transform writes"))
            continue
        made = _expectation(rule)
        if isinstance(made, str):
            found.not_ported.append((rule.rule, made))
        else:
            found.by_table.setdefault(table, []).append(made)
    return found

"""Data-quality rules as data. Each compiles to one SQL query that runs in PostgreSQL and
returns only ``(failing, samples)``: how many rows or checks fail, and up to five sample
keys or figures for the log. No data is pulled into Python.

SQL fragments may use ``%(day)s`` (the logical date) and ``%(prev)s`` (the day before);
write ``%%`` for a literal ``%`` (the query goes through psycopg2 with parameters).

    NotNull("silver.trade", ("portfolio_code", "price"), key="source_trade_id",
            where="trade_date = %(day)s")
    KpiBounds("fill_rate", "SELECT fill_rate FROM gold.trade_kpi_daily "
              "WHERE business_date = %(day)s", low=0.3, high=1.0, severity="warn")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["fail", "warn"]
SAMPLES = 5


def _violations(select_key: str, source: str) -> str:
    """Count violating rows and keep a few of their keys, sorted (stable logs)."""
    return (
        f"SELECT count(*), (array_agg(k ORDER BY k))[1:{SAMPLES}] FROM "
        f"(SELECT ({select_key})::text AS k FROM {source}) AS v"
    )


def _where(where: str | None) -> str:
    return f"({where})" if where else "true"


@dataclass(frozen=True)
class NotNull:
    table: str
    columns: Sequence[str]
    key: str
    where: str | None = None
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        return f"not_null({self.table}: {', '.join(self.columns)})"

    def sql(self) -> str:
        nulls = " OR ".join(f"{c} IS NULL" for c in self.columns)
        return _violations(self.key, f"{self.table} WHERE {_where(self.where)} AND ({nulls})")


@dataclass(frozen=True)
class Unique:
    table: str
    columns: Sequence[str]
    where: str | None = None
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        return f"unique({self.table}: {', '.join(self.columns)})"

    def sql(self) -> str:
        cols = ", ".join(self.columns)
        groups = (
            f"(SELECT concat_ws('|', {cols}) AS key FROM {self.table} "
            f"WHERE {_where(self.where)} GROUP BY {cols} HAVING count(*) > 1) AS d"
        )
        return _violations("key", groups)


@dataclass(frozen=True)
class AcceptedValues:
    table: str
    column: str
    values: Sequence[str | int]
    key: str
    where: str | None = None
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        return f"accepted_values({self.table}.{self.column})"

    def sql(self) -> str:
        allowed = ", ".join(repr(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'"
                            for v in self.values)  # fmt: skip
        source = (
            f"{self.table} WHERE {_where(self.where)} "
            f"AND ({self.column} IS NULL OR {self.column} NOT IN ({allowed}))"
        )
        return _violations(self.key, source)


@dataclass(frozen=True)
class ReferentialIntegrity:
    table: str
    column: str
    references: str  # "schema.table.column"
    where: str | None = None
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        return f"references({self.table}.{self.column} -> {self.references})"

    def sql(self) -> str:
        ref_table, ref_column = self.references.rsplit(".", 1)
        source = (
            f"{self.table} AS t WHERE {_where(self.where)} AND t.{self.column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {ref_table} AS r "
            f"WHERE r.{ref_column} = t.{self.column})"
        )
        return _violations(f"t.{self.column}", source)


@dataclass(frozen=True)
class RowCondition:
    """Every row (matching ``where``) satisfies ``condition``, e.g. an OHLC invariant."""

    name: str
    table: str
    condition: str
    key: str
    where: str | None = None
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        return f"row_condition({self.table}: {self.name})"

    def sql(self) -> str:
        source = (
            f"{self.table} WHERE {_where(self.where)} AND NOT coalesce(({self.condition}), false)"
        )
        return _violations(self.key, source)


def _figure_check(name: str, value_sql: str, failing_sql: str, shown: str) -> str:
    """A check over one computed figure: 1 failure (with the figures shown) or 0."""
    return (
        f"SELECT CASE WHEN {failing_sql} THEN 1 ELSE 0 END, ARRAY[{shown}] "
        f"FROM ({value_sql}) AS {name}"
    )


@dataclass(frozen=True)
class RowCountDelta:
    """Rows of the day against a baseline: the day before (default) or another query."""

    table: str
    date_column: str
    tolerance: float = 0.5  # allowed relative change
    baseline: str | None = None  # SQL giving one count; default: the same table, the day before
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        return f"row_count_delta({self.table}, ±{self.tolerance:.0%})"

    def sql(self) -> str:
        today = f"SELECT count(*) FROM {self.table} WHERE {self.date_column} = %(day)s"
        base = self.baseline or (
            f"SELECT count(*) FROM {self.table} WHERE {self.date_column} = %(prev)s"
        )
        value = f"SELECT ({today}) AS n, ({base}) AS base"
        failing = f"c.base > 0 AND abs(c.n - c.base) > {self.tolerance} * c.base"
        shown = "'today ' || c.n, 'baseline ' || c.base"
        return _figure_check("c", value, failing, shown)


@dataclass(frozen=True)
class ControlTotal:
    """Two totals that must agree (within ``tolerance``), e.g. amounts across layers."""

    name: str
    left: str  # SQL giving one number
    right: str
    tolerance: float = 0.005
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        return f"control_total({self.name})"

    def sql(self) -> str:
        value = f"SELECT coalesce(({self.left}), 0) AS l, coalesce(({self.right}), 0) AS r"
        failing = f"abs(c.l - c.r) > {self.tolerance}"
        return _figure_check("c", value, failing, "'left ' || c.l, 'right ' || c.r")


@dataclass(frozen=True)
class Freshness:
    table: str
    column: str
    max_age: str  # a PostgreSQL interval, e.g. '36 hours'
    where: str | None = None
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        return f"freshness({self.table}.{self.column} within {self.max_age})"

    def sql(self) -> str:
        value = f"SELECT max({self.column}) AS latest FROM {self.table} WHERE {_where(self.where)}"
        failing = f"f.latest IS NULL OR f.latest < now() - interval '{self.max_age}'"
        return _figure_check("f", value, failing, "'latest ' || coalesce(f.latest::text, 'none')")


@dataclass(frozen=True)
class KpiBounds:
    name: str
    value: str  # SQL giving one number
    low: float | None = None
    high: float | None = None
    severity: Severity = "fail"

    @property
    def rule(self) -> str:
        if self.low is None:
            return f"kpi_bounds({self.name} <= {self.high})"
        if self.high is None:
            return f"kpi_bounds({self.name} >= {self.low})"
        return f"kpi_bounds({self.name} in [{self.low}, {self.high}])"

    def sql(self) -> str:
        checks = ["k.v IS NULL"]
        if self.low is not None:
            checks.append(f"k.v < {self.low}")
        if self.high is not None:
            checks.append(f"k.v > {self.high}")
        value = f"SELECT ({self.value})::numeric AS v"
        return _figure_check(
            "k", value, " OR ".join(checks), "'value ' || coalesce(k.v::text, 'none')"
        )


Rule = (
    NotNull
    | Unique
    | AcceptedValues
    | ReferentialIntegrity
    | RowCondition
    | RowCountDelta
    | ControlTotal
    | Freshness
    | KpiBounds
)

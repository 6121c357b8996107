"""SQL text a port carries over from the catalogue: run parameters and temporal reads.

A transform's SQL is formatted with the run's parameters (``{day}``, ``{known_at}``, ...,
see :meth:`RunConfig.params`). A port keeps them as parameters of the target instead of
fixed dates: the text is formatted with :data:`TOKENS` (plain words inside the string
literals where the parameters stand), parsed, and every literal holding a token becomes
an expression of the target's parameter (:func:`replace_tokens`).

Reads are PostgreSQL and may use what the warehouse alone has: ``<view>__as_of(t)`` and
``<view>__between(a, b)`` (the history functions) and ``'infinity'`` (an open version's
``sys_end``). :func:`portable_reads` rewrites them into plain SQL over ``*_hist`` with
:data:`OPEN_END` as the open end, which every target can store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import sqlglot
from sqlglot import exp

# The run parameters, in the order a target declares them.
PARAMS = ("day", "prev", "next", "as_of", "day_start", "known_at", "year", "month", "dd")
TOKENS = {name: f"MEDALLIONPARAM{name.upper()}X" for name in PARAMS}
_TOKEN = re.compile("(" + "|".join(TOKENS.values()) + ")")
_BY_TOKEN = {token: name for name, token in TOKENS.items()}

# An open version's sys_end outside PostgreSQL (which has 'infinity'); the first instant
# any target stores.
OPEN_END = "9999-12-31 00:00:00+00:00"
OPEN_END_DATE = "9999-12-31"
OPEN_START = "0001-01-01 00:00:00+00:00"
OPEN_START_DATE = "0001-01-01"


def tokenized(sql: str, **extra: str) -> str:
    """``sql`` formatted with the parameter tokens (and ``extra`` placeholders)."""
    return sql.format(**TOKENS, **extra)


def has_tokens(text: str) -> bool:
    return bool(_TOKEN.search(text))


def replace_tokens(
    tree: exp.Expression, parameter: Callable[[str], exp.Expression]
) -> exp.Expression:
    """Every string literal holding tokens becomes the concatenation of its text and
    ``parameter(name)`` for each token (``'{known_at}+00'`` → ``$KNOWN_AT || '+00'``)."""

    def swap(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.Literal) and node.is_string and has_tokens(node.this)):
            return node
        parts: list[exp.Expression] = []
        for piece in _TOKEN.split(node.this):
            if piece in _BY_TOKEN:
                parts.append(parameter(_BY_TOKEN[piece]))
            elif piece:
                parts.append(exp.Literal.string(piece))
        joined = parts[0]
        for part in parts[1:]:
            joined = exp.DPipe(this=joined, expression=part, safe=True)
        return exp.Paren(this=joined) if len(parts) > 1 else joined

    return tree.transform(swap)


def _history_function(table: exp.Table) -> tuple[str, str, list[exp.Expression]] | None:
    """``(hist table, kind, arguments)`` when ``table`` calls ``<view>__as_of`` or
    ``<view>__between``."""
    call = table.this
    if not isinstance(call, exp.Anonymous):
        return None
    name = call.name.lower()
    for kind in ("as_of", "between"):
        suffix = f"__{kind}"
        if name.endswith(suffix):
            schema = table.db
            hist = f"{name[: -len(suffix)]}_hist"
            return (f"{schema}.{hist}" if schema else hist), kind, list(call.expressions)
    return None


def _history_subquery(table: exp.Table) -> exp.Expression:
    found = _history_function(table)
    if found is None:
        return table
    hist, kind, args = found
    if kind == "as_of":
        [at] = args
        where = f"sys_start <= {at.sql('postgres')} AND sys_end > {at.sql('postgres')}"
    else:
        start, end = args
        where = f"sys_start < {end.sql('postgres')} AND sys_end > {start.sql('postgres')}"
    select = sqlglot.parse_one(f"SELECT * FROM {hist} WHERE {where}", read="postgres")
    alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(hist.split(".")[-1]))
    return exp.Subquery(this=select, alias=alias)


def _open_ends(node: exp.Expression) -> exp.Expression:
    """``'infinity'`` / ``'-infinity'`` literals as the first / last instant a target keeps."""
    if not (isinstance(node, exp.Literal) and node.is_string):
        return node
    text = node.this.strip().lower()
    if text not in ("infinity", "-infinity"):
        return node
    late = text == "infinity"
    parent = node.parent
    if isinstance(parent, exp.Cast) and parent.to.this == exp.DataType.Type.DATE:
        return exp.Literal.string(OPEN_END_DATE if late else OPEN_START_DATE)
    if isinstance(parent, exp.Cast):
        return exp.Literal.string(OPEN_END if late else OPEN_START)
    return exp.cast(exp.Literal.string(OPEN_END if late else OPEN_START), "TIMESTAMPTZ")


def portable_read(sql: str) -> exp.Expression:
    """A read (PostgreSQL) without the warehouse's own history functions and infinities."""
    tree = sqlglot.parse_one(sql, read="postgres")
    tree = tree.transform(lambda n: _history_subquery(n) if isinstance(n, exp.Table) else n)
    return tree.transform(_open_ends)


def rename_views(tree: exp.Expression, names: Mapping[str, str]) -> exp.Expression:
    """Unqualified references to ``names`` (a step's views) renamed; CTEs keep theirs."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    qualifiers = {column.table.lower() for column in tree.find_all(exp.Column) if column.table}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.db and isinstance(node.this, exp.Identifier):
            name = node.name.lower()
            if name in names and name not in ctes:
                renamed = node.copy()
                renamed.set("this", exp.to_identifier(names[name]))
                if not node.alias and name in qualifiers:  # columns name it: keep the name
                    renamed.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
                return renamed
        return node

    return tree.transform(swap)

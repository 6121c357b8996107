"""The Snowflake port: plain SQL scripts generated from the catalogue.

    port = snowflake_port(catalogue, tables, "demo_source")  # files; each transform's status
    port.write(Path("port/snowflake"))

What a transform becomes, by shape:

* every table class → ``CREATE TABLE IF NOT EXISTS`` in ``00_tables.sql`` (temporal tables
  keep ``sys_start`` / ``sys_end``, with ``9999-12-31`` as an open version's end, and get
  their current-state view);
* :class:`BronzeAppend` from a source table → the day's rows inserted once per batch
  (the batch id is the same name-based UUID the warehouse gives it); from landing files
  → ``COPY INTO <target>__files`` from the stage named after the landing source (new and
  rewritten files, with their path and write time), then the day's files' rows (the
  load's glob as a regex over the path, each file's latest copy) appended the same way;
* :class:`SnapshotIntoHistory` → the steps as temporary tables, the rejects replaced in
  the quarantine, and one ``MERGE`` that closes changed versions and opens new ones at the
  date's system time, then an ``UPDATE`` closing the keys the snapshot lost;
* :class:`GoldSnapshot` → the reads and steps as temporary tables, and the same versioned
  replace of the date's rows at ``known_at``;
* :class:`SilverBatchLoad` and :class:`Custom` → not ported: their publication is
  Python (it writes PostgreSQL), so there is no SQL to carry over.

Scripts take the run's parameters as session variables (``SET DAY = '2026-11-20'``, ...),
which ``run_day.sql`` sets: ``$DAY``, ``$KNOWN_AT``, ... stand where the transform's text
has ``{day}``, ``{known_at}``. Identifiers are unquoted, so Snowflake upper-cases them.
Spark steps are translated by sqlglot (Spark → Snowflake); reads by PostgreSQL →
Snowflake, after :func:`~.sqltext.portable_read`.
"""

from __future__ import annotations

import re
import textwrap
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlalchemy.dialects import postgresql
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from src._base.engines.postgres import FILE_PATH
from src._base.engines.transpile import UUID3
from src._base.functions.temporal import SYSTEM_COLUMNS
from src._base.pipeline.catalogue import Catalogue, TransformEntry
from src._base.pipeline.frames import KEY_NAMESPACE, content_hash_sql
from src._base.pipeline.run_config import BATCH_NAMESPACE
from src._base.pipeline.shapes import (
    BronzeAppend,
    GoldSnapshot,
    LandingFiles,
    MergeHistory,
    Read,
    ReplaceRows,
    SilverBatchLoad,
    SnapshotIntoHistory,
    SourceTable,
    UpsertRows,
    landed_source_columns,
)
from src._base.ports.common import (
    NOT_PORTED,
    PORTED,
    Port,
    PortError,
    TransformPort,
    Unportable,
    aliased_derived_tables,
    landed_columns,
    parse,
    parse_read,
    publications,
)
from src._base.ports.sqltext import (
    OPEN_END,
    PARAMS,
    rename_views,
    replace_tokens,
    tokenized,
)

DIALECT = "snowflake"
OPEN = f"CAST('{OPEN_END}' AS TIMESTAMP_TZ)"
# The date's system time (silver versions) and gold's knowledge time, as instants in UTC.
SYSTEM_TIME = "CAST($AS_OF || '+00:00' AS TIMESTAMP_TZ)"
KNOWN_AT = "CAST($KNOWN_AT || '+00:00' AS TIMESTAMP_TZ)"


# Session variable names: none may begin another's name (fakesnow, and any runner that
# substitutes $NAME textually, would read $DAY_START as $DAY followed by _START).
VARIABLES = {name: name.upper() for name in PARAMS} | {"day_start": "START_OF_DAY"}


def _variable(name: str) -> exp.Expression:
    return exp.Parameter(this=exp.Var(this=VARIABLES[name]))


_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")


def _is_timestamp(column: exp.Column, types: Mapping[str, str] | None) -> bool:
    return (types or {}).get(column.name, "").upper().startswith("TIMESTAMP")


def _seconds(value: exp.Expression) -> str:
    """``2026-11-20 09:30:00``: an instant in UTC to the whole second (the first 19
    characters of its text in Snowflake's default output format, and DuckDB's)."""
    utc = f"CONVERT_TIMEZONE('UTC', {value.sql(DIALECT)})"
    return f"SUBSTR(CAST({utc} AS VARCHAR), 1, 19)"


def _fraction(value: exp.Expression, digits: int) -> str:
    """The fraction of the instant's second, ``digits`` wide (zero-padded)."""
    unit = 10 ** (9 - digits)
    nanos = f"EXTRACT(NANOSECOND FROM {value.sql(DIALECT)})"
    return f"LPAD(TO_VARCHAR(CAST(FLOOR({nanos} / {unit}) AS INTEGER)), {digits}, '0')"


def _spark_instant(value: exp.Expression) -> exp.Expression:
    """An instant as Spark casts it to a string: ``2026-11-20 09:30:00`` in UTC, and the
    fraction of the second when there is one, trailing zeros dropped (``...:49.37``)."""
    micros = _fraction(value, 6)
    return sqlglot.parse_one(
        f"{_seconds(value)} || CASE WHEN {micros} = '000000' THEN ''"
        f" ELSE '.' || REGEXP_REPLACE({micros}, '0+$', '') END",  # fakesnow's RTRIM keeps them
        read=DIALECT,
    )


def _spark_json_instant(value: exp.Expression) -> exp.Expression:
    """An instant as Spark's JSON writes it: ``2026-11-20T09:30:00.370Z``."""
    text = f"REPLACE({_seconds(value)}, ' ', 'T') || '.' || {_fraction(value, 3)} || 'Z'"
    return sqlglot.parse_one(text, read=DIALECT)


def uuid3_snowflake(name: exp.Expression, namespace: uuid.UUID = KEY_NAMESPACE) -> exp.Expression:
    """Snowflake for ``uuid.uuid3(namespace, name)``, the key the warehouse gives a row:
    the MD5 of the namespace's bytes and the name's UTF-8, with the version (3) and the
    variant (10xx) set, in the usual dashed form."""
    digest = f"MD5(TO_BINARY('{namespace.hex}' || HEX_ENCODE({name.sql(DIALECT)}), 'HEX'))"
    variant = (
        f"SUBSTR('89ab89ab89ab89ab', POSITION(SUBSTR({digest}, 17, 1), '0123456789abcdef'), 1)"
    )
    parts = [
        f"SUBSTR({digest}, 1, 8)", "'-'", f"SUBSTR({digest}, 9, 4)", "'-3'",
        f"SUBSTR({digest}, 14, 3)", "'-'", variant, f"SUBSTR({digest}, 18, 3)", "'-'",
        f"SUBSTR({digest}, 21, 12)",
    ]  # fmt: skip
    return sqlglot.parse_one(" || ".join(parts), read=DIALECT)


def _spark_semantics(
    node: exp.Expression, types: Mapping[str, str] | None = None
) -> exp.Expression:
    """Spark constructs whose plain Snowflake rendering means something else:
    ``a DIV b`` truncates (a cast to an integer rounds), ``ts + make_interval(...)``
    has no interval literal to become (``DATEADD`` per non-zero unit instead), and a
    timestamp cast to a string or written into ``to_json`` prints as Spark prints it
    (``2026-11-20 09:30:00.37``, ``"2026-11-20T09:30:00.370Z"``), so keys and records
    agree (built from parts: the proof's DuckDB cannot run ``TO_CHAR`` with a format).
    ``types``: the step's input columns' types, by name."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == UUID3:
        [name] = node.expressions
        return uuid3_snowflake(name.transform(lambda n: _spark_semantics(n, types)))
    if isinstance(node, exp.JSONFormat) and isinstance(node.this, exp.Struct):
        for field in node.this.expressions:  # Spark's JSON writes instants as ...T...Z
            value = field.expression if isinstance(field, exp.PropertyEQ) else None
            if isinstance(value, exp.Column) and _is_timestamp(value, types):
                field.set("expression", _spark_json_instant(value))
        return node
    if (
        isinstance(node, exp.Cast | exp.TryCast)
        and node.to.is_type(*exp.DataType.TEXT_TYPES)
        and isinstance(node.this, exp.Column)
        and _is_timestamp(node.this, types)
    ):
        return _spark_instant(node.this)
    if isinstance(node, exp.IntDiv):
        quotient = exp.Div(this=node.this.copy(), expression=node.expression.copy())
        return exp.cast(exp.func("TRUNC", quotient), "BIGINT")
    if isinstance(node, exp.Add) and isinstance(node.expression, exp.MakeInterval):
        result = node.this.copy()
        for unit in _UNITS:
            amount = node.expression.args.get(unit)
            if amount is None or (isinstance(amount, exp.Literal) and amount.this in ("0", 0)):
                continue
            result = exp.func("DATEADD", exp.var(unit.upper()), amount.copy(), result)
        return result
    return node


_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


def _unquoted(node: exp.Expression) -> exp.Expression:
    """A quoted lower-case name (Spark's `timestamp`) unquoted: Spark's names are not
    case-sensitive, and Snowflake's quoted ones are (``"timestamp"`` is not ``timestamp``,
    which it stores as ``TIMESTAMP``)."""
    if isinstance(node, exp.Identifier) and node.quoted and _PLAIN.fullmatch(node.this):
        node.set("quoted", False)
    return node


def _render(tree: exp.Expression, where: str) -> str:
    tree = replace_tokens(tree, _variable).transform(_unquoted)
    try:
        text = tree.sql(dialect=DIALECT, unsupported_level=ErrorLevel.RAISE, pretty=True)
    except SqlglotError as exc:
        raise PortError(f"{where}: cannot write it as Snowflake SQL: {exc}") from None
    return _TIMESTAMP_TZ.sub("TIMESTAMP_TZ", text)  # the name every Snowflake parser knows


_TIMESTAMP_TZ = re.compile(r"\bTIMESTAMPTZ\b")


def temp_name(transform: str, view: str) -> str:
    """The temporary table a transform's read or step becomes."""
    return f"{transform}__{view}"


BATCH = "MEDALLIONBATCH"  # stands for the input's batch id in a read until it is known


class _Script:
    """One transform's statements, its views renamed into temporary tables."""

    def __init__(self, entry: TransformEntry, tables: Mapping[str, Any]) -> None:
        self.entry = entry
        self.tables = tables  # the project's table classes: types for the steps
        self.names: dict[str, str] = {}
        self.statements: list[str] = []
        self.caveats: list[str] = []
        self.schema: dict[str, dict[str, str]] = {}  # view -> column -> sqlglot type

    def where(self, part: str) -> str:
        return f"{self.entry.path} ({self.entry.name}), {part}"

    def read(self, view: str, read: Read) -> None:
        table = self.tables.get(read.relation)
        if table is not None and not read.columns:
            self.schema[view.lower()] = _column_types(table)
        self._table(view, parse_read(read, self.where(f"read {view}"), batch=BATCH))

    def _typed(self, view: str, tree: exp.Expression) -> None:
        """Record the step's output column types for the steps after it (best effort:
        a step sqlglot cannot type leaves its columns unknown)."""
        schema = MappingSchema(self.schema, dialect="spark")
        try:
            qualified = qualify(
                tree.copy(), schema=schema, dialect="spark", validate_qualify_columns=False
            )
            typed = annotate_types(qualified, schema=schema)
        except (SqlglotError, ValueError, KeyError):
            return
        self.schema[view.lower()] = {
            p.alias_or_name: p.type.sql("spark") for p in typed.selects if p.type is not None
        }

    def _columns_typed(self, tree: exp.Expression) -> dict[str, str]:
        """Column name -> type over the views ``tree`` reads (by unqualified name)."""
        found: dict[str, str] = {}
        for table in tree.find_all(exp.Table):
            found.update(self.schema.get(table.name.lower(), {}))
        return found

    def step(self, view: str, spark_sql: str, key: str = "") -> None:
        """``{key}`` in the text: the name-based UUID of the ``key`` expression."""
        key_call = f"{UUID3}({tokenized(key)})" if key else "NULL"
        text = tokenized(spark_sql, key=key_call) if "{key}" in spark_sql else tokenized(spark_sql)
        tree = parse(text, "spark", self.where(f"step {view}"))
        for call in tree.find_all(exp.Anonymous):
            if call.name.lower() != UUID3:  # sqlglot does not know it: nor its rendering
                raise Unportable(
                    f"step {view}: function {call.name}() has no known Snowflake rendering"
                )
        types = self._columns_typed(tree)
        tree = tree.transform(lambda n: _spark_semantics(n, types))
        self._typed(view, tree)
        self._table(view, rename_views(tree, self.names))

    def _table(self, view: str, tree: exp.Expression) -> None:
        if _correlated_limit(tree):
            self.caveats.append(
                f"{view}: a correlated subquery with LIMIT, which DuckDB runs and Snowflake "
                "rejects (rewrite it with a window function or QUALIFY)"
            )
        name = temp_name(self.entry.name, view)
        body = _render(aliased_derived_tables(tree), self.where(view))
        self.statements.append(f"CREATE OR REPLACE TEMPORARY TABLE {name} AS\n{body}")
        self.names[view.lower()] = name

    def add(self, sql: str) -> None:
        self.statements.append(textwrap.dedent(sql).strip())

    def text(self, header: str) -> str:
        body = ";\n\n".join(self.statements)
        return f"{header}\n{body};\n"


def _correlated_limit(tree: exp.Expression) -> bool:
    """A subquery reading its outer query's columns and cut by LIMIT: Snowflake cannot
    evaluate it ("Unsupported subquery type"), though DuckDB (so fakesnow) can."""
    for select in tree.find_all(exp.Select):
        if not select.args.get("limit") or select is tree:
            continue
        inside = {source.alias_or_name.lower() for source in select.find_all(exp.Table)}
        inside |= {sub.alias.lower() for sub in select.find_all(exp.Subquery) if sub.alias}
        outer = {c.table.lower() for c in select.find_all(exp.Column) if c.table} - inside
        if outer:
            return True
    return False


def _batch_id(job: str) -> str:
    """The batch id the warehouse gives ``job``'s load of ``$DAY`` (uuid5, the same name)."""
    return f"UUID_STRING('{BATCH_NAMESPACE}', '{job}/' || $DAY)"


def _eq(columns: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}" for c in columns)


def _key_eq(keys: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in keys)


def versioned_replace(
    hist: str,
    keys: Sequence[str],
    columns: Sequence[str],
    stage: str,
    at: str,
    *,
    scope: str = "",
    valid: str = "",
    close_missing: bool = True,
) -> list[str]:
    """Make the current versions of ``hist`` (within ``scope``) equal ``stage``, versioned
    at ``at``: one MERGE closes each changed version and opens its successor (and a new
    key's first), then the keys ``stage`` lacks are closed. A version opened at ``at``
    itself is replaced, not closed (the same instant has one version). With ``valid``,
    only valid rows change anything, but every staged key counts as present."""
    scoped = f" AND t.{scope}" if scope else ""
    applies = f" WHERE s.{valid}" if valid else ""
    also = f" AND s.{valid}" if valid else ""
    merge_keys = ", ".join(f"s.{k} AS merge_{k}" for k in keys)
    null_keys = ", ".join(f"NULL AS merge_{k}" for k in keys)
    on = " AND ".join(f"t.{k} = s.merge_{k}" for k in keys)
    every = [*keys, *columns]
    changed = f"NOT ({_eq(columns, 't', 's')})" if columns else "FALSE"
    values = ", ".join(f"s.{c}" for c in every)
    current = f"t.sys_end = {OPEN}"
    merge = [f"""MERGE INTO {hist} AS t
USING (
  SELECT s.*, {merge_keys} FROM {stage} AS s{applies}
  UNION ALL
  SELECT s.*, {null_keys} FROM {stage} AS s
  JOIN {hist} AS t ON {_key_eq(keys, 't', 's')} AND {current}{scoped}
  WHERE {changed}{also} AND t.sys_start < {at}
) AS s
ON {on} AND {current}{scoped}
WHEN MATCHED AND {changed} AND t.sys_start >= {at} THEN UPDATE SET {
    ", ".join(f"{c} = s.{c}" for c in columns) or f"{keys[0]} = s.{keys[0]}"}
WHEN MATCHED AND {changed} THEN UPDATE SET sys_end = {at}
WHEN NOT MATCHED THEN INSERT ({", ".join(every)}, sys_start, sys_end)
  VALUES ({values}, {at}, {OPEN})"""]
    if not close_missing:
        return merge
    return [
        *merge,
        f"""DELETE FROM {hist} AS t
WHERE {current}{scoped} AND t.sys_start >= {at}
  AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {_key_eq(keys, 't', 's')})""",
        f"""UPDATE {hist} AS t SET sys_end = {at}
WHERE {current}{scoped}
  AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {_key_eq(keys, 't', 's')})""",
    ]


def _header(entry: TransformEntry, what: str) -> str:
    doc = (entry.path.read_text().split('"""')[1].strip().splitlines() or [""])[0]
    return (
        f"-- {entry.name} ({entry.layer}): {doc}\n"
        f"-- {what}\n"
        f"-- Generated by scripts/port.py from {entry.path.name}; run it through run_day.sql,\n"
        "-- which sets the session variables $DAY, $KNOWN_AT, ... it reads.\n"
    )


def _bronze(
    entry: TransformEntry, tables: Mapping[str, Any], source_database: str
) -> tuple[str, list[str]]:
    spec: BronzeAppend = entry.spec
    script = _Script(entry, tables)
    source = spec.source
    relation = f"{source_database}.{source.relation}"
    script.read("source", Read(relation, where=source.where, columns=source.columns))
    script.step("landed", spec.landed)
    _append_batch(script, entry, tables, f"'{relation}'")
    header = _header(entry, f"Lands the day's rows of {relation} in {spec.target}.")
    return script.text(header), script.caveats


def _append_batch(
    script: _Script, entry: TransformEntry, tables: Mapping[str, Any], label: str
) -> None:
    """Replace the date's batch in the bronze table with the ``landed`` rows, their load
    metadata added (``label``: an expression for the batch's ``source``)."""
    spec: BronzeAppend = entry.spec
    landed = script.names["landed"]
    columns = landed_columns(spec.landed)
    target = tables[spec.target]
    metadata = ["batch_id", "logical_date", "load_time", "source", "content_hash"]
    missing = [c for c in [*columns, *metadata] if c not in target.columns]
    if missing:
        raise PortError(f"{entry.path}: {spec.target} has no column(s) {', '.join(missing)}")
    hashed = parse(content_hash_sql(columns), "spark", script.where("content hash"))
    content = hashed.sql(dialect=DIALECT)
    script.add(f"DELETE FROM {spec.target} WHERE batch_id = {_batch_id(entry.name)}")
    script.add(f"""INSERT INTO {spec.target} ({", ".join([*columns, *metadata])})
SELECT {", ".join(f"l.{c}" for c in columns)},
       {_batch_id(entry.name)}, TO_DATE($DAY), CURRENT_TIMESTAMP(),
       {label},
       {content}
FROM {landed} AS l""")


FILE_NAME = "METADATA$FILENAME"  # the path of a staged file within its stage
FILE_MODIFIED = "METADATA$FILE_LAST_MODIFIED"  # when it was last written (UTC)
PARQUET_FILES = ".*[.]parquet"


def landing_variables(stage: str) -> tuple[str, str]:
    """The session variables of a landing stage's zone: where the warehouse's own loads
    read it (each batch's ``source``, ``/data/landing``) and the URI its files have there
    (each row's file path, ``file:/data/landing``)."""
    name = stage.split(".")[-1]
    return f"{name}_ZONE", f"{name}_URI"


def landing_stage(files: LandingFiles, target: str) -> str:
    """The stage a landing source's files are read from: the source's name, in the bronze
    table's schema (qualified: ``CREATE SCHEMA`` moves a session's current schema)."""
    return f"{target.split('.')[0]}.{(files.source or 'landing').upper()}"


def landed_table(spec: BronzeAppend) -> str:
    """The table holding every copied landing file's rows (``COPY``'s own load history
    skips a file already copied), beside the bronze table."""
    return f"{spec.target}__files"


def glob_regex(pattern: str) -> str:
    """A path glob (``*`` within one folder, ``?`` one character) as a regular expression
    matching the whole path (Snowflake's ``RLIKE``)."""
    out = []
    for char in pattern:
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char.isalnum() or char in "_=/-":
            out.append(char)
        else:
            out.append(f"[{char}]")
    return "".join(out)


def _source_types(entry: TransformEntry, target: Any, columns: Sequence[str]) -> dict[str, str]:
    """The file columns the ``landed`` mapping reads, typed as the target columns they
    land in unchanged (``timestamp AS bar_time``: ``bar_time``'s type)."""
    dialect = postgresql.dialect()
    tree = parse(tokenized(entry.spec.landed), "spark", f"{entry.path} ({entry.name}), landed")
    direct: dict[str, str] = {}
    for projection in tree.selects:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        name = projection.alias_or_name
        if isinstance(inner, exp.Column) and not inner.table and name in target.columns:
            kind = target.columns[name].type.compile(dialect=dialect)
            direct.setdefault(inner.name, snowflake_type(kind))
    untyped = [c for c in columns if c not in direct]
    if untyped:
        raise Unportable(
            f"file column(s) {', '.join(untyped)} land in no target column unchanged, so "
            "their type is unknown (select each once as it is, e.g. `x AS y`)"
        )
    return {c: direct[c] for c in columns}


def _file_columns(entry: TransformEntry) -> list[str]:
    """The columns of the files that ``landed`` reads, in the order it first reads them."""
    text = tokenized(entry.spec.landed)
    parse(text, "spark", f"{entry.path} ({entry.name}), landed")  # names the file if broken
    return landed_source_columns(text)


def _bronze_files(
    port: Port, entry: TransformEntry, tables: Mapping[str, Any]
) -> tuple[str, list[str]]:
    """A bronze load of landing files: ``COPY INTO`` a table of copied files' rows from
    the stage named after the landing source (new files only), then the day's files'
    rows (by path, as the load's glob picks them) appended once per batch."""
    spec: BronzeAppend = entry.spec
    files: LandingFiles = spec.source  # type: ignore[assignment]
    target = tables[spec.target]
    columns = _file_columns(entry)
    types = _source_types(entry, target, columns)
    stage = landing_stage(files, spec.target)
    copied = landed_table(spec)
    script = _Script(entry, tables)
    body = ",\n".join(f"  {c} {types[c]}" for c in columns)
    port.files["00_tables.sql"] += (
        f"\n-- The rows of every landing file {entry.name} copied (a file written again is\n"
        "-- copied again: its latest copy counts).\n"
        f"CREATE TABLE IF NOT EXISTS {copied} (\n  file_name VARCHAR NOT NULL,\n"
        f"  file_modified TIMESTAMP_NTZ NOT NULL,\n{body}\n);\n"
    )
    script.add(
        f"COPY INTO {copied} (file_name, file_modified, {', '.join(columns)})\n"
        f"FROM (SELECT {FILE_NAME}, {FILE_MODIFIED}, {', '.join(f'$1:{c}' for c in columns)}\n"
        f"  FROM @{stage}/{files.folder}/)\n"
        f"PATTERN = '{PARQUET_FILES}'\n"
        "FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE)"
    )
    wanted = replace_tokens(
        # matched on the path's end, so a stage over a parent folder of the zone still finds them
        exp.Literal.string("(.*/)?" + glob_regex(f"{files.folder}/{tokenized(files.pattern)}")),
        _variable,
    ).sql(DIALECT)
    zone, uri = landing_variables(stage)
    read = sqlglot.parse_one(
        f"SELECT {', '.join(f'f.{c}' for c in columns)}, ${uri} || '/' || f.file_name"
        f" AS {FILE_PATH}\n"
        f"FROM {copied} AS f WHERE RLIKE(f.file_name, {wanted})\n"
        "QUALIFY f.file_modified = MAX(f.file_modified) OVER (PARTITION BY f.file_name)",
        read=DIALECT,
    )
    script.schema["source"] = {
        c: exp.DataType.build(types[c], dialect=DIALECT).sql("spark") for c in columns
    }
    script._table("source", read)
    script.step("landed", spec.landed.replace("_metadata.file_path", FILE_PATH))
    label = f"${zone} || '/{files.folder}'"
    _append_batch(script, entry, tables, label)
    header = _header(
        entry,
        f"Lands the day's files of the stage @{stage}/{files.folder}/ in {spec.target}\n"
        f"-- (create the stage over the landing zone first: CREATE STAGE {stage} URL = '<the"
        "\n-- zone, e.g. s3://bucket/landing/>' STORAGE_INTEGRATION = <yours>;).",
    )
    caveats = [
        f"{FILE_NAME} as the file's path within the stage and {FILE_MODIFIED} (Snowflake's "
        "documentation; fakesnow has neither, so the proof copies file by file, naming "
        "each), COPY's load history (a rewritten file is copied again)",
    ]
    return script.text(header), [*script.caveats, *caveats]


def _quarantine(script: _Script, spec: Any) -> None:
    """Replace the load's rejects of the date (the ``rejects`` step) in the quarantine."""
    rejects = script.names["rejects"]
    job = script.entry.name
    script.add(
        f"DELETE FROM {spec.quarantine} WHERE job = '{job}' AND logical_date = TO_DATE($DAY)"
    )
    script.add(f"""INSERT INTO {spec.quarantine} (job, logical_date, source_table, record_key, rule,
  batch_id, record, effective_time)
SELECT '{job}', TO_DATE($DAY), '{spec.bronze_table}', r.record_key, r.rule,
       {_batch_id(job)}, PARSE_JSON(r.record), {SYSTEM_TIME}
FROM {rejects} AS r""")


def _silver_steps(
    entry: TransformEntry, tables: Mapping[str, Any], staged: Mapping[str, str], key: str = ""
) -> _Script:
    """A silver load's steps as every shape has them (the bronze batch, lookups,
    ``prepare``, ``checked``, then ``staged`` and ``rejects``), its transaction opened
    and its rejects replaced in the quarantine."""
    spec = entry.spec
    script = _Script(entry, tables)
    script.read(spec.bronze_view, Read(spec.bronze_table, where=f"batch_id = '{BATCH}'"))
    for view, read in spec.lookups.items():
        script.read(view, read)
    for view, sql in spec.prepare.items():
        script.step(view, sql)
    script.step("checked", spec.checked)
    for view, sql in staged.items():
        script.step(view, sql, key=key)
    script.step("rejects", spec.rejects)
    script.statements = [s.replace(f"'{BATCH}'", _batch_id(spec.input)) for s in script.statements]
    script.add("BEGIN")
    _quarantine(script, spec)
    return script


def _snapshot(entry: TransformEntry, tables: Mapping[str, Any]) -> tuple[str, list[str]]:
    spec: SnapshotIntoHistory = entry.spec
    script = _silver_steps(entry, tables, {"snapshot": spec.snapshot})
    for sql in versioned_replace(
        spec.hist, spec.keys, spec.columns, script.names["snapshot"], SYSTEM_TIME, valid="is_valid"
    ):
        script.add(sql)
    script.add("COMMIT")
    header = _header(entry, f"Merges the day's snapshot into {spec.hist} at its system time.")
    return script.text(header), script.caveats


def _replace_rows(script: _Script, part: ReplaceRows) -> None:
    where = _render(
        parse(f"SELECT 1 WHERE {tokenized(part.where)}", "postgres", script.where("publish")),
        script.where("publish"),
    ).split("WHERE", 1)[1]
    columns = ", ".join(part.columns)
    script.add(f"DELETE FROM {part.target} WHERE {' '.join(where.split())}")
    script.add(
        f"INSERT INTO {part.target} ({columns})\n"
        f"SELECT {columns} FROM {script.names[part.step.lower()]}"
    )


def _upsert_rows(script: _Script, part: UpsertRows) -> None:
    """ON CONFLICT as a MERGE: the same guard (not older, something differs)."""
    values = ", ".join(f"s.{c}" for c in part.columns)
    script.add(f"""MERGE INTO {part.target} AS t
USING {script.names[part.step.lower()]} AS s
ON t.{part.key} = s.{part.key}
WHEN MATCHED AND t.{part.newer} <= s.{part.newer} AND NOT ({_eq(part.update, 't', 's')})
  THEN UPDATE SET {", ".join(f"{c} = s.{c}" for c in part.update)}
WHEN NOT MATCHED THEN INSERT ({", ".join(part.columns)}) VALUES ({values})""")


def _merge_history(script: _Script, part: MergeHistory, at: str) -> None:
    """The rows as a subquery of the MERGE itself: a temporary table is DDL, and DDL
    commits Snowflake's open transaction."""
    source = part.source.replace("{stage}", script.names[part.step.lower()])
    where = script.where("publish")
    rows = _render(parse(tokenized(source), "postgres", where), where)
    rows = f"({' '.join(rows.split())})"
    for sql in versioned_replace(part.hist, part.keys, part.columns, rows, at, close_missing=False):
        script.add(sql)


def _batch_load(entry: TransformEntry, tables: Mapping[str, Any]) -> tuple[str, list[str]]:
    """A batch load whose publication is declared as data (:func:`_publications`)."""
    spec: SilverBatchLoad = entry.spec
    script = _silver_steps(entry, tables, spec.staged, spec.key)
    parts = publications(spec.publish) or []
    for part in parts:
        if isinstance(part, ReplaceRows):
            _replace_rows(script, part)
        elif isinstance(part, UpsertRows):
            _upsert_rows(script, part)
        else:
            _merge_history(script, part, SYSTEM_TIME)
    script.add("COMMIT")
    targets = ", ".join(dict.fromkeys(getattr(p, "target", None) or p.hist for p in parts))
    header = _header(entry, f"Validates the day's batch and publishes it into {targets}.")
    return script.text(header), script.caveats


def _gold(entry: TransformEntry, tables: Mapping[str, Any]) -> tuple[str, list[str]]:
    spec: GoldSnapshot = entry.spec
    script = _Script(entry, tables)
    for view, read in spec.reads.items():
        script.read(view, read)
    last = ""
    for view, sql in spec.steps.items():
        script.step(view, sql)
        last = view
    target = tables[spec.target]
    columns = [c.name for c in target.columns if c.name not in SYSTEM_COLUMNS]
    values = [c for c in columns if c not in spec.keys]
    at = KNOWN_AT
    script.add("BEGIN")
    for sql in versioned_replace(
        spec.target,
        spec.keys,
        values,
        script.names[last],
        at,
        scope="business_date = TO_DATE($DAY)",
    ):
        script.add(sql)
    script.add("COMMIT")
    header = _header(entry, f"Replaces {spec.target}'s rows of the date, versioned at $KNOWN_AT.")
    return script.text(header), script.caveats


def _column_types(table: Any) -> dict[str, str]:
    """A table class's columns as sqlglot (Spark) types, for typing the steps."""
    dialect = postgresql.dialect()
    found = {}
    for column in table.columns:
        try:
            kind = exp.DataType.build(column.type.compile(dialect=dialect), dialect="postgres")
        except SqlglotError:
            continue
        found[column.name] = kind.sql("spark")
    return found


_SNOWFLAKE_TYPES = {
    "uuid": "VARCHAR(36)",
    "jsonb": "VARIANT",
    "json": "VARIANT",
    "timestamp with time zone": "TIMESTAMP_TZ",
    "timestamp without time zone": "TIMESTAMP_NTZ",
    "text": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "double precision": "FLOAT",
    "float": "FLOAT",
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
}


def snowflake_type(pg_type: str) -> str:
    """The Snowflake type a PostgreSQL column type is stored as."""
    known = _SNOWFLAKE_TYPES.get(pg_type.lower())
    return known or exp.DataType.build(pg_type, dialect="postgres").sql(DIALECT)


def _default(column: Any) -> str:
    if column.server_default is None:
        return ""
    text = str(column.server_default.arg)
    if "uuid" in text:
        return " DEFAULT UUID_STRING()"
    if "now()" in text or "system_time" in text:
        return " DEFAULT CURRENT_TIMESTAMP()"
    if text == "'infinity'":
        return f" DEFAULT {OPEN}"
    if text in ("true", "false"):
        return f" DEFAULT {text.upper()}"
    return ""


def tables_sql(tables: Mapping[str, Any]) -> str:
    dialect = postgresql.dialect()
    schemas = sorted({name.split(".")[0] for name in tables})
    lines = [
        "-- The project's tables (generated by scripts/port.py from the table classes).",
        "-- Temporal tables keep every version; an open version ends at 9999-12-31.",
        *[f"CREATE SCHEMA IF NOT EXISTS {schema};" for schema in schemas],
    ]
    for name, table in sorted(tables.items()):
        columns = [
            f"  {c.name} {snowflake_type(c.type.compile(dialect=dialect))}"
            f"{'' if c.nullable else ' NOT NULL'}{_default(c)}"
            for c in table.columns
        ]
        key = ", ".join(c.name for c in table.primary_key.columns)
        lines.append(
            f"\nCREATE TABLE IF NOT EXISTS {name} (\n"
            + ",\n".join([*columns, f"  PRIMARY KEY ({key})"])
            + "\n);"
        )
        if all(c in table.columns for c in SYSTEM_COLUMNS) and name.endswith("_hist"):
            view = name[: -len("_hist")]
            shown = ", ".join(c.name for c in table.columns if c.name != "sys_end")
            lines.append(
                f"CREATE OR REPLACE VIEW {view} AS\nSELECT {shown}\nFROM {name}\n"
                f"WHERE sys_end = {OPEN};"
            )
    return "\n".join(lines) + "\n"


def run_day_sql(entries: Sequence[TransformPort], stages: Sequence[str] = ()) -> str:
    settings = "\n".join(f"SET {VARIABLES[name]} = '<{name}>';" for name in PARAMS)
    for stage in stages:
        zone, uri = landing_variables(stage)
        settings += (
            f"\n-- The landing zone of the stage {stage}: as the warehouse's loads read it, and\n"
            "-- the prefix of its files' URIs there (recorded as each batch's source and file).\n"
            f"SET {zone} = '<e.g. s3://bucket/landing>';\n"
            f"SET {uri} = '<e.g. s3a://bucket/landing>';"
        )
    runs = "\n".join(f"--   {p.path}" for p in entries if p.status == PORTED)
    return (
        "-- One day of the pipeline, in order. Set the run's parameters first (the values\n"
        "-- scripts/check_ports.py uses for a date: day, prev, next as YYYY-MM-DD; as_of,\n"
        "-- day_start, known_at as 'YYYY-MM-DD HH24:MI:SS' in UTC; year, month, dd).\n"
        "ALTER SESSION SET TIMEZONE = 'UTC';\n"
        "-- Instants are printed into keys and records from this format's first 19 characters.\n"
        "ALTER SESSION SET TIMESTAMP_TZ_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM';\n"
        f"{settings}\n"
        "-- Then, in the same session and in this order, each transform's script (SnowSQL:\n"
        "-- !source <file>):\n"
        f"{runs}\n"
    )


# sqlfluff's settings for the generated files: Snowflake's dialect and its core rules,
# less the layout ones (the layout is sqlglot's) and those on aliasing style that the
# transforms' own SQL is free to choose.
SQLFLUFF_CONFIG = """[sqlfluff]
dialect = snowflake
templater = raw
rules = core
exclude_rules = LT01, LT02, LT05, LT08, LT09, LT14, AL03, AL04, AL05, AL09, CP02
max_line_length = 0
"""


def snowflake_port(catalogue: Catalogue, tables: Mapping[str, Any], source_database: str) -> Port:
    """The Snowflake port of ``catalogue``; ``tables`` are the project's table classes.

    A transform using a function with no known Snowflake rendering is not ported (the
    reason names it); SQL that does not parse at all raises :class:`PortError`."""
    port = Port("snowflake")
    port.files["00_tables.sql"] = tables_sql(tables)
    for entry in catalogue.entries:
        try:
            _port_entry(port, entry, tables, source_database)
        except Unportable as exc:
            port.transforms.append(
                TransformPort(entry.name, entry.layer, NOT_PORTED, str(exc), outputs=entry.outputs)
            )
    stages = port_stages(catalogue, port)
    names = [*VARIABLES.values(), *(v for stage in stages for v in landing_variables(stage))]
    clash = [(a, b) for a in names for b in names if a != b and b.startswith(a)]
    if clash:
        raise PortError(
            f"Session variable ${clash[0][0]} begins ${clash[0][1]}: a runner substituting "
            "$NAME textually would read one as the other. Rename the landing source."
        )
    port.files["run_day.sql"] = run_day_sql(port.transforms, stages)
    port.files[".sqlfluff"] = SQLFLUFF_CONFIG
    return port


def port_stages(catalogue: Catalogue, port: Port) -> list[str]:
    """The stages the port's ported transforms copy landing files from."""
    ported = {t.name for t in port.transforms if t.status == PORTED}
    return sorted({
        landing_stage(entry.spec.source, entry.spec.target)
        for entry in catalogue.entries
        if entry.name in ported
        and isinstance(entry.spec, BronzeAppend)
        and isinstance(entry.spec.source, LandingFiles)
    })  # fmt: skip


def _port_entry(
    port: Port, entry: TransformEntry, tables: Mapping[str, Any], source_database: str
) -> None:
    path = f"{entry.layer}/{entry.name}.sql"
    spec = entry.spec
    if isinstance(spec, BronzeAppend) and isinstance(spec.source, SourceTable):
        text, caveats = _bronze(entry, tables, source_database)
    elif isinstance(spec, BronzeAppend):
        text, caveats = _bronze_files(port, entry, tables)
    elif isinstance(spec, SnapshotIntoHistory):
        text, caveats = _snapshot(entry, tables)
    elif isinstance(spec, GoldSnapshot):
        text, caveats = _gold(entry, tables)
    elif isinstance(spec, SilverBatchLoad) and publications(spec.publish):
        text, caveats = _batch_load(entry, tables)
    else:
        port.transforms.append(TransformPort(
            entry.name, entry.layer, NOT_PORTED,
            f"a {type(spec).__name__} whose publication is Python writing PostgreSQL "
            "(declare it as data, e.g. ReplaceRows, to port it)",
            outputs=entry.outputs))  # fmt: skip
        return
    port.files[path] = text
    port.transforms.append(TransformPort(
        entry.name, entry.layer, PORTED, "; ".join(caveats), path, entry.outputs))  # fmt: skip

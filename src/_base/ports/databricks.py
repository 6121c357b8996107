"""The Databricks port: a Lakeflow / Spark Declarative Pipelines project from the catalogue.

    port = databricks_port(catalogue, tables, "demo_source")
    port.write(Path("port/databricks"))

One pipeline holds every layer: the graph crosses layers (silver reads bronze, gold reads
silver), so one update orders them itself and is one day of the warehouse. The day is
the pipeline's configuration (``medallion.day``, ``medallion.as_of``, ... the run's
parameters), which SQL reads as ``${medallion.day}``.

The project has two halves, each a library folder of the pipeline:

* ``transformations/`` computes the day, with our SQL: per transform, its reads and
  steps as temporary views (``<transform>__<view>``) and its day's result as a
  materialized view ``<table>__day``: bronze the day's extract with its load metadata
  (sources over JDBC, landing files as Parquet), silver the conformed snapshot or the
  staged rows and the rejects, gold the date's rows. This half runs on PySpark's own
  ``spark-pipelines`` here, and :mod:`.proof_databricks` compares it with the spark
  engine.
* ``history/`` keeps what the warehouse keeps: each day's result appended once to a
  streaming table (``<table>__changes``, a once flow named for the day, so a rerun of
  the day adds nothing), and AUTO CDC into the tables: SCD type 2 for temporal tables
  (``<table>__scd2``, with a view ``<table>`` that names the versions ``sys_start`` /
  ``sys_end`` as ours, open ones ending 9999-12-31), type 1 for upserted and replaced
  rows, plain appends for bronze and the quarantine. PySpark 4.3 has no once flows and
  no local table format that AUTO CDC can merge into, so this half is validated here
  (``spark-pipelines dry-run``: keys, sequencing and columns resolved against the real
  schemas), not run.

A transform that reads its own table (gold positions start from the previous day's) reads
``<table>__published``, a view over the SCD2 table that ``setup.sql`` creates outside the
pipeline: a pipeline's graph cannot read what it writes.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from src._base.functions.temporal import SYSTEM_COLUMNS
from src._base.pipeline.catalogue import Catalogue, TransformEntry
from src._base.pipeline.frames import uuid3_sql
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
from src._base.ports.expectations import Expectation, Expectations, expectations
from src._base.ports.sqltext import OPEN_END, PARAMS, TOKENS, rename_views, tokenized

DIALECT = "spark"
CONF = "medallion"  # the configuration namespace: medallion.day, medallion.source.url, ...
OPEN = f"TIMESTAMP '{OPEN_END[:19]}'"  # an open version's end (session time zone UTC)
SYSTEM_TIME = f"CAST('${{{CONF}.as_of}}+00:00' AS TIMESTAMP)"
KNOWN_AT = f"CAST('${{{CONF}.known_at}}+00:00' AS TIMESTAMP)"
DAY = f"DATE '${{{CONF}.day}}'"
SEQUENCE = "medallion_sequence"  # the column AUTO CDC orders a table's changes by
PUBLISHED = "__published"
# What only Databricks can show of every ported transform.
HISTORY_STATUS = "history/ running (once flows, AUTO CDC): checked here by dry-run only"


def param(name: str) -> str:
    """Where a run parameter stands in the port's SQL (Spark substitutes the conf)."""
    return f"${{{CONF}.{name}}}"


def day_table(table: str) -> str:
    """The materialized view holding the day's result for ``table``."""
    return f"{table}__day"


def _spark_sql(tree: exp.Expression, where: str) -> str:
    try:
        text = tree.sql(dialect=DIALECT, unsupported_level=ErrorLevel.RAISE, pretty=True)
    except SqlglotError as exc:
        raise PortError(f"{where}: cannot write it as Spark SQL: {exc}") from None
    for name, token in TOKENS.items():
        text = text.replace(token, param(name))
    return text


class _Definitions:
    """One transform's SQL definitions: reads and steps as temporary views."""

    def __init__(self, entry: TransformEntry, published: Mapping[str, str]) -> None:
        self.entry = entry
        self.published = published  # its own tables -> the views outside the pipeline
        self.names: dict[str, str] = {}
        self.statements: list[str] = []

    def where(self, part: str) -> str:
        return f"{self.entry.path} ({self.entry.name}), {part}"

    def _own_tables(self, tree: exp.Expression) -> exp.Expression:
        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.db:
                name = f"{node.db}.{node.name}".lower()
                if name in self.published:
                    schema, table = self.published[name].split(".")
                    renamed = node.copy()
                    renamed.set("db", exp.to_identifier(schema))
                    renamed.set("this", exp.to_identifier(table))
                    if not node.alias:
                        renamed.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
                    return renamed
            return node

        return tree.transform(swap)

    def read(self, view: str, read: Read, relation: str | None = None) -> None:
        """A read (PostgreSQL over the warehouse) as Spark SQL over the pipeline's tables."""
        tree = parse_read(read, self.where(f"read {view}"), relation)
        self._view(view, self._own_tables(tree))

    def _step_tree(self, view: str, spark_sql: str, key: str = "") -> exp.Expression:
        extra = {"key": uuid3_sql(tokenized(key))} if "{key}" in spark_sql else {}
        tree = parse(tokenized(spark_sql, **extra), DIALECT, self.where(f"step {view}"))
        return rename_views(tree, self.names)

    def step(self, view: str, spark_sql: str, key: str = "") -> None:
        """A step (Spark SQL); ``{key}`` is the name-based UUID of the ``key`` expression."""
        self._view(view, self._step_tree(view, spark_sql, key))

    def spark_text(self, view: str, spark_sql: str) -> str:
        """A step's text as the port writes it, without defining a view."""
        tree = self._step_tree(view, spark_sql)
        return _spark_sql(aliased_derived_tables(tree), self.where(view))

    def _view(self, view: str, tree: exp.Expression) -> None:
        name = f"{self.entry.name}__{view}"
        body = _spark_sql(aliased_derived_tables(tree), self.where(view))
        self.statements.append(f"CREATE TEMPORARY VIEW {name} AS\n{body}")
        self.names[view.lower()] = name

    def materialized(self, table: str, select: str) -> None:
        self.statements.append(f"CREATE MATERIALIZED VIEW {table} AS\n{select.strip()}")

    def sql_text(self, header: str) -> str:
        return header + ";\n\n".join(self.statements) + ";\n"


def _py_text(text: str, indent: int) -> str:
    """A string literal for generated Python: one line, or parenthesized pieces that fit
    in 100 columns at ``indent``."""
    if indent + len(_quoted(text)) + 40 <= 100:
        return _quoted(text)
    pieces = textwrap.wrap(text, 96 - indent - 4, drop_whitespace=False)
    inner = " " * (indent + 4)
    return "(\n" + "".join(f"{inner}{_quoted(p)}\n" for p in pieces) + " " * indent + ")"


def _quoted(text: str) -> str:
    """A double-quoted Python string literal (black's choice)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _doc(entry: TransformEntry) -> str:
    return (entry.path.read_text().split('"""')[1].strip().splitlines() or [""])[0]


def _sql_header(entry: TransformEntry, what: str) -> str:
    return (
        f"-- {entry.name} ({entry.layer}): {_doc(entry)}\n"
        f"-- {what}\n"
        f"-- Generated by scripts/port.py from {entry.path.name}. The run's parameters are\n"
        f"-- the pipeline's configuration: ${{{CONF}.day}}, ${{{CONF}.known_at}}, ...\n\n"
    )


def _py_header(entry: TransformEntry, what: str, imports: Sequence[str] = ()) -> str:
    """A generated module's docstring and imports (ruff- and black-clean)."""
    doc = textwrap.fill(f"{entry.name} ({entry.layer}): {_doc(entry)}", 88)
    said = textwrap.fill(
        f"{what} Generated by scripts/port.py from {entry.path.name}. The run's parameters "
        "are the pipeline's configuration (medallion.day, medallion.known_at, ...).",
        88,
    )
    first = "".join(f"import {name}\n" for name in imports)
    return (
        f'"""{doc}\n\n{said}\n"""\n\n{first}{chr(10) if first else ""}'
        "from pyspark import pipelines as dp\n"
        "from pyspark.sql import SparkSession\n\n"
        "spark = SparkSession.active()\n"
    )


def _params_code() -> str:
    names = ", ".join(f'"{name}"' for name in PARAMS)
    return (
        "PARAMS = {\n"
        f'    name: spark.conf.get(f"{CONF}.{{name}}")\n'
        f"    for name in ({names})\n"
        "}\n"
    )


def _sql_block(sql: str) -> str:
    """SQL as the body of a triple-quoted Python string."""
    return f'"""\n{sql.strip()}\n"""'


def _generated_ids(table: Any, produced: Sequence[str]) -> list[str]:
    """Columns the warehouse fills itself (random UUID keys), as Spark expressions."""
    found = []
    for column in table.columns:
        if column.name in produced or column.name in SYSTEM_COLUMNS:
            continue
        default = str(column.server_default.arg) if column.server_default is not None else ""
        if "uuid" in default:
            found.append(f"uuid() AS {column.name}")
    return found


def _bronze(entry: TransformEntry, tables: Mapping[str, Any], source_database: str) -> str:
    """The day's extract with the load metadata the warehouse adds, as ``<target>__day``."""
    spec: BronzeAppend = entry.spec
    columns = landed_columns(spec.landed)
    target = tables[spec.target]
    metadata = ["batch_id", "logical_date", "load_time", "source", "content_hash"]
    missing = [c for c in [*columns, *metadata] if c not in target.columns]
    if missing:
        raise PortError(f"{entry.path}: {spec.target} has no column(s) {', '.join(missing)}")
    definitions = _Definitions(entry, {})
    definitions.names["source"] = f"{entry.name}__source"
    landed = definitions.spark_text("landed", spec.landed)
    source = spec.source
    if isinstance(source, SourceTable):
        label = f"'{source_database}.{source.relation}'"
        reader = _jdbc_reader(entry.name, source)
        what = f"Lands the day's rows of {source_database}.{source.relation} in {spec.target}."
    else:
        label = f"concat('{param('landing')}', '/{source.folder}')"
        reader = _files_reader(entry.name, source)
        what = f"Lands the day's files of <landing>/{source.folder} in {spec.target}."
    fields = ",\n    ".join(f"'{c}', {c}" for c in columns)
    select = ",\n       ".join(
        [
            *_generated_ids(target, [*columns, *metadata]),
            *(f"l.{c}" for c in columns),
            ":batch_id AS batch_id",
            f"{DAY} AS logical_date",
            "current_timestamp() AS load_time",
            f"{label} AS source",
            f"sha2(to_json(named_struct(\n    {fields}\n)), 256) AS content_hash",
        ]
    )
    day_sql = f"SELECT {select}\nFROM {entry.name}__landed AS l"
    return (
        _py_header(entry, what, ["uuid"])
        + "\n"
        + _params_code()
        + f'BATCH_NAMESPACE = uuid.UUID("{BATCH_NAMESPACE}")\n'
        + f'BATCH_ID = str(uuid.uuid5(BATCH_NAMESPACE, "{entry.name}/" + PARAMS["day"]))\n'
        + reader
        + f"\n\n\nLANDED = {_sql_block(landed)}\n\n"
        + f"DAY = {_sql_block(day_sql)}\n\n\n"
        + f'@dp.temporary_view(name="{entry.name}__landed")\n'
        + "def landed():\n    return spark.sql(LANDED)\n\n\n"
        + f'@dp.materialized_view(name="{day_table(spec.target)}")\n'
        + 'def day():\n    return spark.sql(DAY, args={"batch_id": BATCH_ID})\n'
    )


def _jdbc_reader(name: str, source: SourceTable) -> str:
    """The source read over JDBC, its PostgreSQL text pushed down as the warehouse does."""
    read = Read(source.relation, source.where, source.columns)
    query = read.query({param_name: "{" + param_name + "}" for param_name in PARAMS})
    return f'''
SOURCE = "{query}"


@dp.temporary_view(name="{name}__source")
def source():
    """The source database over JDBC; its password is a secret in the configuration."""
    reader = (
        spark.read.format("jdbc")
        .option("url", spark.conf.get("{CONF}.source.url"))
        .option("driver", "org.postgresql.Driver")
        .option("user", spark.conf.get("{CONF}.source.user"))
        .option("dbtable", SOURCE.format(**PARAMS))
        .option("fetchsize", "10000")
    )
    password = spark.conf.get("{CONF}.source.password", "")
    return (reader.option("password", password) if password else reader).load()
'''.rstrip()


def _files_reader(name: str, source: LandingFiles) -> str:
    return f'''
PATTERN = "{source.pattern}"


@dp.temporary_view(name="{name}__source")
def source():
    """The day's Parquet files; the file's path is kept (partition values stay text)."""
    root = spark.conf.get("{CONF}.landing") + "/{source.folder}"
    files = spark.read.option("basePath", root).parquet(root + "/" + PATTERN.format(**PARAMS))
    return files.select("*", "_metadata")
'''.rstrip()


def uuid5_sql(name_sql: str, namespace: uuid.UUID) -> str:
    """Spark SQL for ``uuid.uuid5(namespace, name)``: the batch id the warehouse gives a
    job's load of a date (SHA-1 of the namespace's bytes and the name, version 5)."""
    digest = f"SHA1(CONCAT(UNHEX('{namespace.hex}'), ENCODE({name_sql}, 'UTF-8')))"
    variant = f"LOWER(HEX((CAST(CONV(SUBSTR({digest}, 17, 1), 16, 10) AS INT) & 3) | 8))"
    return (
        f"CONCAT_WS('-', SUBSTR({digest}, 1, 8), SUBSTR({digest}, 9, 4), "
        f"CONCAT('5', SUBSTR({digest}, 14, 3)), CONCAT({variant}, SUBSTR({digest}, 18, 3)), "
        f"SUBSTR({digest}, 21, 12))"
    )


def _quarantine_day(definitions: _Definitions, spec: Any) -> str:
    job = definitions.entry.name
    table = day_table(f"{spec.quarantine}__{job}")
    definitions.materialized(
        table,
        f"""SELECT UUID() AS quarantine_id,
       '{job}' AS job,
       {DAY} AS logical_date,
       '{spec.bronze_table}' AS source_table,
       r.record_key,
       r.rule,
       {uuid5_sql(f"'{job}/' || '{param('day')}'", BATCH_NAMESPACE)} AS batch_id,
       r.record,
       {SYSTEM_TIME} AS effective_time
FROM {definitions.names["rejects"]} AS r""",
    )
    return table


def _silver_definitions(
    entry: TransformEntry, staged: Mapping[str, str], key: str = ""
) -> _Definitions:
    spec = entry.spec
    definitions = _Definitions(entry, {})
    definitions.read(spec.bronze_view, Read(spec.bronze_table), day_table(spec.bronze_table))
    for view, read in spec.lookups.items():
        definitions.read(view, read)
    for view, sql in spec.prepare.items():
        definitions.step(view, sql)
    definitions.step("checked", spec.checked)
    for view, sql in staged.items():
        definitions.step(view, sql, key=key)
    definitions.step("rejects", spec.rejects)
    return definitions


def versions_select(scd2: str, columns: Sequence[str]) -> str:
    """An AUTO CDC SCD2 table's versions as the warehouse names them: ``sys_start`` /
    ``sys_end``, an open version ending 9999-12-31."""
    shown = ",\n       ".join(columns)
    return (
        f"SELECT {shown},\n       __start_at AS sys_start,\n"
        f"       COALESCE(__end_at, {OPEN}) AS sys_end\nFROM {scd2}"
    )


class _History:
    """The ``history/`` file of one transform: once flows and AUTO CDC. ``checks``: the
    expectations on each table it writes (on the streaming table the day's rows reach)."""

    def __init__(self, entry: TransformEntry,
                 checks: Mapping[str, Sequence[Expectation]] | None = None) -> None:  # fmt: skip
        self.entry = entry
        self.checks = checks or {}
        self.blocks: list[str] = []
        self.views: list[str] = []
        self.expects = False

    def _created(self, target: str, table: str, day: str) -> str:
        """``create_streaming_table`` for ``target``, with ``table``'s expectations
        (checked on the rows of ``day`` that reach it)."""
        found = self.checks.get(table.lower(), [])
        if not found:
            return f'dp.create_streaming_table("{target}")\n'
        self.expects = True
        lines = ["dp.create_streaming_table(", f'    "{target}",', "    **expecting(",
                 f'        "{day}",']  # fmt: skip
        for kind, chosen in (("fail", True), ("warn", False)):
            rules = [e for e in found if e.fail == chosen]
            if not rules:
                lines.append(f"        {kind}={{}},")
                continue
            lines.append(f"        {kind}={{")
            for rule in rules:
                lines.append(f'            "{rule.name}": {_py_text(rule.condition, 12)},')
            lines.append("        },")
        return "\n".join([*lines, "    ),", ")"]) + "\n"

    def append_day(self, target: str, day: str, select: str = "", *, create: bool = True,
                   table: str = "") -> None:  # fmt: skip
        """Append the day's rows (``select`` over the table ``day``, default all of it) to
        the streaming table ``target`` once; ``table``: whose expectations it checks
        (default ``target``)."""
        flow = f"{self.entry.name}__{target.split('.')[-1]}"
        created = self._created(target, table or target, day) if create else ""
        self.blocks.append(
            f'{created}append_day(\n    "{target}",\n    "{flow}",\n    "{day}",\n'
            f"    {_sql_block(select or f'SELECT * FROM {day}')},\n)"
        )

    def changes(self, table: str, day: str, *, sequence: str, where: str = "",
                columns: Sequence[str] = ()) -> str:  # fmt: skip
        """``table``'s day (the rows of ``day`` matching ``where``) as change events,
        ordered by ``sequence``: its changes table."""
        changes = f"{table}__changes"
        shown = ",\n       ".join(f"d.{c}" for c in columns) or "d.*"
        filtered = f"\nWHERE {where}" if where else ""
        select = f"SELECT {shown},\n       {sequence} AS {SEQUENCE}\nFROM {day} AS d{filtered}"
        self.append_day(changes, day, select, table=table)
        return changes

    def scd(self, target: str, changes: str, keys: Sequence[str], scd_type: int) -> None:
        keys_list = ", ".join(f'"{k}"' for k in keys)
        self.blocks.append(
            f'dp.create_streaming_table("{target}")\n'
            "dp.create_auto_cdc_flow(\n"
            f'    target="{target}",\n'
            f'    source="{changes}",\n'
            f"    keys=[{keys_list}],\n"
            f'    sequence_by="{SEQUENCE}",\n'
            f'    except_column_list=["{SEQUENCE}"],\n'
            f"    stored_as_scd_type={scd_type},\n"
            ")"
        )

    def upserted(self, part: UpsertRows, day: str) -> None:
        """SCD type 1 by ``part.key``, the latest by ``part.newer`` winning (a late event
        never overwrites a newer state). Columns an upsert only inserts keep their first
        value: ``part.target`` is then a view taking them from the key's earliest change."""
        changes = self.changes(part.target, day, sequence=f"d.{part.newer}")
        first_only = [c for c in part.columns if c != part.key and c not in part.update]
        if not first_only:
            self.scd(part.target, changes, [part.key], 1)
            return
        latest = f"{part.target}__scd1"
        self.scd(latest, changes, [part.key], 1)
        shown = ",\n       ".join(f"f.{c}" if c in first_only else f"s.{c}" for c in part.columns)
        firsts = ",\n         ".join(f"MIN_BY({c}, {SEQUENCE}) AS {c}" for c in first_only)
        self.views.append(
            f"CREATE VIEW {part.target} AS\nSELECT {shown}\nFROM {latest} AS s\n"
            f"JOIN (\n  SELECT {part.key},\n         {firsts}\n  FROM {changes}\n"
            f"  GROUP BY {part.key}\n) AS f\n  ON f.{part.key} = s.{part.key}"
        )

    def versions_view(self, view: str, scd2: str, columns: Sequence[str]) -> None:
        """``view``: the SCD2 table's versions as ours name them."""
        self.views.append(f"CREATE VIEW {view} AS\n{versions_select(scd2, columns)}")

    def temporal(self, table: str, keys: Sequence[str], columns: Sequence[str], day: str,
                 sequence: str, where: str = "") -> None:  # fmt: skip
        changes = self.changes(
            table, day, sequence=sequence, where=where, columns=[*keys, *columns]
        )
        scd2 = f"{table}__scd2"
        self.scd(scd2, changes, keys, 2)
        self.versions_view(table, scd2, [*keys, *columns])

    def python(self) -> str:
        what = "Keeps the day's results: once flows and AUTO CDC (see the port's README)."
        run = "DAY"
        if self.entry.layer == "gold":  # a restatement (a later known_at) versions again
            run = f'DAY + "__" + spark.conf.get("{CONF}.known_at")'
        helper = _EXPECTING if self.expects else ""
        return (
            _py_header(self.entry, what, ["inspect", "re"])
            + "\n"
            + _APPEND_DAY.replace("{run}", run)
            + helper
            + "\n\n"
            + "\n\n".join(self.blocks)
            + "\n"
        )

    def sql(self) -> str:
        header = _sql_header(self.entry, "The history tables' versions, named as ours.")
        return header + ";\n\n".join(self.views) + ";\n"


_APPEND_DAY = f'''DAY = spark.conf.get("{CONF}.day")
# Names this run's once flows.
RUN = re.sub(r"\\W", "_", {{run}})


def append_day(target: str, flow: str, day: str, select: str) -> None:
    """Append ``select`` (the day's rows, read from the table ``day``) to ``target``
    once: a flow named for the run (the day; gold's, the day and its knowledge time), so
    a rerun adds nothing."""
    name = f"{{flow}}__{{RUN}}"
    if "once" in inspect.signature(dp.append_flow).parameters:
        dp.append_flow(target=target, name=name, once=True)(lambda: spark.sql(select))
    else:  # PySpark 4.3 has no once flows: the same rows as a stream, for dry-runs
        streamed = select.replace(f"FROM {{day}}", f"FROM STREAM({{day}})")
        dp.append_flow(target=target, name=name)(lambda: spark.sql(streamed))
'''


_EXPECTING = '''

def expecting(day: str, fail: dict[str, str], warn: dict[str, str]) -> dict:
    """The warehouse's row-level rules as expectations: a failing row fails the update
    (``fail``) or is recorded (``warn``). PySpark 4.3 has no expectations: there a view
    of the same conditions over the day's rows lets a dry-run check that they resolve."""
    if "expect_all_or_fail" in inspect.signature(dp.create_streaming_table).parameters:
        chosen = {"expect_all_or_fail": fail, "expect_all": warn}
        return {kind: rules for kind, rules in chosen.items() if rules}
    shown = ", ".join(f"({condition}) AS {name}" for name, condition in {**fail, **warn}.items())
    dp.temporary_view(name=re.sub(r"\\W", "_", day) + "__expectations")(
        lambda: spark.sql(f"SELECT {shown} FROM {day}")
    )
    return {}
'''


def _columns(table: Any, drop: Sequence[str] = ()) -> list[str]:
    return [c.name for c in table.columns if c.name not in SYSTEM_COLUMNS and c.name not in drop]


def _snapshot(
    entry: TransformEntry, tables: Mapping[str, Any], checks: Mapping[str, Sequence[Expectation]]
) -> tuple[str, _History]:
    spec: SnapshotIntoHistory = entry.spec
    definitions = _silver_definitions(entry, {"snapshot": spec.snapshot})
    hist_day = day_table(spec.hist)
    definitions.materialized(hist_day, f"SELECT * FROM {definitions.names['snapshot']}")
    quarantine = _quarantine_day(definitions, spec)
    history = _History(entry, checks)
    history.temporal(spec.hist, spec.keys, spec.columns, hist_day, SYSTEM_TIME, "d.is_valid")
    history.append_day(spec.quarantine, quarantine, create=False)
    what = f"The day's snapshot for {spec.hist} (valid or not) and its rejects."
    return definitions.sql_text(_sql_header(entry, what)), history


def _primary_key(table: Any) -> list[str]:
    return [c.name for c in table.primary_key.columns if c.name not in SYSTEM_COLUMNS]


def _batch_load(
    entry: TransformEntry, tables: Mapping[str, Any], checks: Mapping[str, Sequence[Expectation]]
) -> tuple[str, _History]:
    spec: SilverBatchLoad = entry.spec
    definitions = _silver_definitions(entry, spec.staged, spec.key)
    history = _History(entry, checks)
    parts = publications(spec.publish) or []
    upserted = {p.target: p for p in parts if isinstance(p, UpsertRows)}
    for part in parts:
        if isinstance(part, ReplaceRows | UpsertRows):
            staged = definitions.names[part.step.lower()]
            target_day = day_table(part.target)
            definitions.materialized(target_day, f"SELECT {', '.join(part.columns)}\nFROM {staged}")
            if isinstance(part, ReplaceRows):
                changes = history.changes(part.target, target_day, sequence=SYSTEM_TIME)
                history.scd(part.target, changes, _primary_key(tables[part.target]), 1)
            else:
                history.upserted(part, target_day)
        else:  # MergeHistory over the upserted rows: reads the upsert's target
            _merge_history_day(definitions, part, upserted)
            hist_day = day_table(part.hist)
            history.temporal(part.hist, part.keys, part.columns, hist_day, SYSTEM_TIME)
    quarantine = _quarantine_day(definitions, spec)
    history.append_day(spec.quarantine, quarantine, create=False)
    targets = ", ".join(dict.fromkeys(getattr(p, "target", None) or p.hist for p in parts))
    what = f"The day's validated batch for {targets}, and its rejects."
    return definitions.sql_text(_sql_header(entry, what)), history


def _merge_history_day(definitions: _Definitions, part: MergeHistory,
                       upserted: Mapping[str, UpsertRows]) -> None:  # fmt: skip
    """The rows the history takes for the day (``part.source`` over the stage)."""
    staged = definitions.names[part.step.lower()]
    source = part.source.replace("{stage}", staged)
    where = definitions.where("publish")
    tree = parse(tokenized(source), "postgres", where)
    definitions.materialized(day_table(part.hist), _spark_sql(aliased_derived_tables(tree), where))
    for table in tree.find_all(exp.Table):
        name = f"{table.db}.{table.name}" if table.db else table.name
        if table.db and name not in upserted:
            raise Unportable(f"publish: MergeHistory reads {name}, which the load does not write")


def _gold(
    entry: TransformEntry, tables: Mapping[str, Any], checks: Mapping[str, Sequence[Expectation]]
) -> tuple[str, _History]:
    spec: GoldSnapshot = entry.spec
    published = {table.lower(): f"{table}{PUBLISHED}" for table in entry.outputs}
    definitions = _Definitions(entry, published)
    for view, read in spec.reads.items():
        definitions.read(view, read)
    last = ""
    for view, sql in spec.steps.items():
        definitions.step(view, sql)
        last = view
    columns = _columns(tables[spec.target])
    target_day = day_table(spec.target)
    definitions.materialized(
        target_day, f"SELECT {', '.join(columns)}\nFROM {definitions.names[last]}"
    )
    history = _History(entry, checks)
    values = [c for c in columns if c not in spec.keys]
    history.temporal(spec.target, spec.keys, values, target_day, KNOWN_AT)
    what = f"{spec.target}'s rows of the date, as known at ${{{CONF}.known_at}}."
    return definitions.sql_text(_sql_header(entry, what)), history


def _history_file(history: _History) -> dict[str, str]:
    entry = history.entry
    files = {f"history/{entry.layer}/{entry.name}.py": history.python()}
    if history.views:
        files[f"history/{entry.layer}/{entry.name}.sql"] = history.sql()
    return files


def _shared_tables(catalogue: Catalogue) -> str:
    """Streaming tables several transforms append to (the quarantine)."""
    shared = sorted(
        {
            spec.quarantine
            for spec in (e.spec for e in catalogue.entries)
            if hasattr(spec, "quarantine")
        }
    )
    lines = [
        '"""Streaming tables several transforms append to. Generated by scripts/port.py."""',
        "",
        "from pyspark import pipelines as dp",
        "",
        *(f'dp.create_streaming_table("{table}")' for table in shared),
    ]
    return "\n".join(lines) + "\n"


def _configuration(source_database: str) -> dict[str, str]:
    """The pipeline's configuration keys: the run's parameters and where sources are."""
    values = {f"{CONF}.{name}": "" for name in PARAMS}
    values |= {
        f"{CONF}.landing": "",
        f"{CONF}.source.url": f"jdbc:postgresql://<host>:5432/{source_database}",
        f"{CONF}.source.user": "",
        "spark.sql.session.timeZone": "UTC",
    }
    return values


LIBRARIES = ("transformations/**", "history/**")


def pipeline_spec(name: str, storage: str, configuration: Mapping[str, str],
                  libraries: Sequence[str] = LIBRARIES) -> str:  # fmt: skip
    """``spark-pipeline.yml`` for PySpark's ``spark-pipelines`` (run or dry-run)."""
    conf = "\n".join(f'  {key}: "{value}"' for key, value in configuration.items())
    globs = "\n".join(f"  - glob:\n      include: {glob}" for glob in libraries)
    return f"name: {name}\nstorage: {storage}\nconfiguration:\n{conf}\nlibraries:\n{globs}\n"


def _bundle(name: str, source_database: str) -> str:
    conf = _configuration(source_database)
    conf[f"{CONF}.landing"] = "${var.landing}"
    conf[f"{CONF}.source.url"] = "${var.source_url}"
    conf[f"{CONF}.source.user"] = "${var.source_user}"
    conf[f"{CONF}.source.password"] = "{{secrets/medallion/source_password}}"
    for key in PARAMS:
        conf[f"{CONF}.{key}"] = f"${{var.{key}}}"
    configuration = "\n".join(f'        {key}: "{value}"' for key, value in conf.items())
    variables = "\n".join(
        f"  {key}:\n    description: the run parameter {key} (set per update; see README.md)\n"
        '    default: ""'
        for key in PARAMS
    )
    return f"""# The Databricks asset bundle: `databricks bundle deploy -t dev`, then run the job.
# Generated by scripts/port.py; see README.md for what each folder holds.
bundle:
  name: {name}

variables:
  catalog:
    description: the Unity Catalog catalog the pipeline publishes into
    default: main
  landing:
    description: the landing zone of files (a volume path)
    default: /Volumes/main/landing/files
  source_url:
    description: JDBC URL of the operational source database
    default: jdbc:postgresql://<host>:5432/{source_database}
  source_user:
    description: the source database's user (its password is the secret medallion/source_password)
    default: medallion
{variables}

resources:
  pipelines:
    {name}:
      name: {name}
      catalog: ${{var.catalog}}
      schema: default
      serverless: true
      channel: CURRENT
      root_path: .
      libraries:
        - glob:
            include: transformations/**
        - glob:
            include: history/**
      configuration:
{configuration}

  jobs:
    {name}_daily:
      name: {name}_daily
      tasks:
        - task_key: update
          pipeline_task:
            pipeline_id: ${{resources.pipelines.{name}.id}}

targets:
  dev:
    mode: development
    default: true
  prod:
    mode: production
"""


def _spark_type(column: Any) -> str:
    """A table class column's type in Spark SQL."""
    compiled = column.type.compile(dialect=postgresql.dialect())
    if compiled.lower() in ("uuid", "jsonb", "json"):
        return "STRING"
    return exp.DataType.build(compiled, dialect="postgres").sql(DIALECT)


def _published(catalogue: Catalogue, tables: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(transform, table, table class) for each table a transform reads its own days of."""
    return [
        (entry.name, table, tables[table])
        for entry in catalogue.entries
        if isinstance(entry.spec, GoldSnapshot)
        for table in entry.outputs
        if _reads_itself(entry, table)
    ]


def _setup_sql(catalogue: Catalogue, tables: Mapping[str, Any]) -> str:
    """What the pipeline cannot create itself: its schemas, and the views a transform
    reads its own table through (outside the graph, see the module's docstring). Before
    the first update there is no history to read: the views start empty, with the
    history's columns, and ``after_first_update.sql`` points them at it."""
    schemas = sorted({table.split(".")[0] for table in tables})
    lines = [
        "-- Run once before the pipeline's first update (a SQL warehouse or notebook).",
        "-- Generated by scripts/port.py.",
        *(f"CREATE SCHEMA IF NOT EXISTS {schema};" for schema in schemas),
    ]
    for name, table, table_class in _published(catalogue, tables):
        typed = [
            f"CAST(NULL AS {_spark_type(c)}) AS {c.name}"
            for c in table_class.columns
            if c.name not in SYSTEM_COLUMNS
        ]
        typed += ["CAST(NULL AS TIMESTAMP) AS sys_start", "CAST(NULL AS TIMESTAMP) AS sys_end"]
        shown = ",\n       ".join(typed)
        lines.append(
            f"\n-- {name} reads its own earlier days through this view: empty until the\n"
            f"-- first update has run (then run after_first_update.sql).\n"
            f"CREATE VIEW IF NOT EXISTS {table}{PUBLISHED} AS\nSELECT {shown}\nWHERE FALSE;"
        )
    return "\n".join(lines) + "\n"


def _after_first_update_sql(catalogue: Catalogue, tables: Mapping[str, Any]) -> str:
    """The views of :func:`_setup_sql`, pointed at the history the first update made."""
    lines = [
        "-- Run once after the pipeline's first update: the views setup.sql made empty now",
        "-- read the history. Generated by scripts/port.py.",
    ]
    for name, table, _ in _published(catalogue, tables):
        lines.append(
            f"\n-- {name} reads its own earlier days through this view.\n"
            f"CREATE OR REPLACE VIEW {table}{PUBLISHED} AS\n"
            f"{versions_select(f'{table}__scd2', _columns(tables[table]))};"
        )
    return "\n".join(lines) + "\n"


def _reads_itself(entry: TransformEntry, table: str) -> bool:
    relations = " ".join(read.relation for read in getattr(entry.spec, "reads", {}).values())
    view = table.removesuffix("_hist")
    return (
        f"{table}" in relations or f"{view}__as_of" in relations or f"{view}__between" in relations
    )


def self_reads(catalogue: Catalogue) -> list[str]:
    """The tables transforms read their own earlier days of (``<table>__published``)."""
    return [
        table
        for entry in catalogue.entries
        if isinstance(entry.spec, GoldSnapshot)
        for table in entry.outputs
        if _reads_itself(entry, table)
    ]


def _port_entry(
    entry: TransformEntry,
    tables: Mapping[str, Any],
    source_database: str,
    checks: Mapping[str, Sequence[Expectation]],
) -> tuple[dict[str, str], TransformPort]:
    spec = entry.spec
    folder = f"transformations/{entry.layer}/{entry.name}"
    if isinstance(spec, BronzeAppend):
        history = _History(entry, checks)
        history.append_day(spec.target, day_table(spec.target))
        files = {f"{folder}.py": _bronze(entry, tables, source_database)}
    elif isinstance(spec, SnapshotIntoHistory):
        text, history = _snapshot(entry, tables, checks)
        files = {f"{folder}.sql": text}
    elif isinstance(spec, GoldSnapshot):
        text, history = _gold(entry, tables, checks)
        files = {f"{folder}.sql": text}
    elif isinstance(spec, SilverBatchLoad) and publications(spec.publish):
        text, history = _batch_load(entry, tables, checks)
        files = {f"{folder}.sql": text}
    else:
        reason = (
            f"a {type(spec).__name__} whose publication is Python writing PostgreSQL "
            "(declare it as data, e.g. ReplaceRows, to port it)"
        )
        return {}, TransformPort(entry.name, entry.layer, NOT_PORTED, reason, outputs=entry.outputs)
    files |= _history_file(history)
    [path] = [p for p in files if p.startswith("transformations/")]
    return files, TransformPort(
        entry.name, entry.layer, PORTED, HISTORY_STATUS, path, entry.outputs
    )


def databricks_port(catalogue: Catalogue, tables: Mapping[str, Any], source_database: str,
                    rules: Sequence[Any] = ()) -> Port:  # fmt: skip
    """The Databricks (Lakeflow Declarative Pipelines) port of ``catalogue``; ``rules``:
    the project's data-quality rules, carried as expectations where they are row-level."""
    name = f"medallion_{catalogue.database}"
    port = Port("databricks")
    found = expectations(rules, catalogue)
    for entry in catalogue.entries:
        try:
            files, status = _port_entry(entry, tables, source_database, found.by_table)
        except Unportable as exc:
            files, status = {}, TransformPort(
                entry.name, entry.layer, NOT_PORTED, str(exc), outputs=entry.outputs
            )
        port.files |= files
        port.transforms.append(status)
    port.files["history/_shared.py"] = _shared_tables(catalogue)
    port.files["spark-pipeline.yml"] = pipeline_spec(
        name, f"file:///tmp/{name}/storage", _configuration(source_database)
    )
    port.files["databricks.yml"] = _bundle(name, source_database)
    port.files["setup.sql"] = _setup_sql(catalogue, tables)
    if self_reads(catalogue):
        port.files["after_first_update.sql"] = _after_first_update_sql(catalogue, tables)
    port.files[f"airflow/{name}.py"] = airflow_dag(name, catalogue.database)
    port.files["README.md"] = _readme(name, port, found)
    port.files[".sqlfluff"] = SQLFLUFF_CONFIG
    return port


SQLFLUFF_CONFIG = """[sqlfluff]
dialect = databricks
templater = raw
rules = core
exclude_rules = LT01, LT02, LT05, LT08, LT09, LT14, AL03, AL04, AL05, AL09, CP02
max_line_length = 0
"""


_DAG = '''"""Airflow DAG: one update of the Databricks pipeline {pipeline} per day.

The port's variant of the warehouse's daily DAGs: each run sets the pipeline's
configuration to the run's day (the parameters every transform reads, from
``dag_run.conf["date"]`` or the run's logical date), starts an update, and waits for it
to end. Runs are one at a time: the configuration is the pipeline's, not the update's.
Connection: ``{connection}`` (the workspace's host and a token; Airflow's
Databricks provider). Generated by scripts/port.py.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import dag, get_current_context, task

PIPELINE = "{pipeline}"
CONNECTION = "{connection}"
POLL_SECONDS = 30.0
ENDED = ("COMPLETED", "FAILED", "CANCELED")


def run_parameters(day: date) -> dict[str, str]:
    """The configuration of the update for ``day``: versions of the day start at the
    midnight after it (UTC), which is also when gold knows them."""
    system_time = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    values = {{
        "day": day.isoformat(),
        "prev": (day - timedelta(days=1)).isoformat(),
        "next": (day + timedelta(days=1)).isoformat(),
        "as_of": system_time.strftime("%Y-%m-%d %H:%M:%S"),
        "day_start": f"{{day.isoformat()}} 00:00:00",
        "known_at": system_time.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "year": f"{{day.year}}",
        "month": f"{{day.month:02d}}",
        "dd": f"{{day.day:02d}}",
    }}
    return {{f"medallion.{{name}}": value for name, value in values.items()}}


def _edit(hook: Any, pipeline_id: str, spec: dict[str, Any]) -> None:
    """PUT the pipeline's settings (the hook's API calls have no PUT), authenticated as
    the hook is."""
    import requests

    response = requests.put(
        hook._endpoint_url(f"api/2.0/pipelines/{{pipeline_id}}"),
        json=spec,
        headers={{"Authorization": f"Bearer {{hook._get_token(raise_error=True)}}"}},
        timeout=hook.timeout_seconds,
    )
    response.raise_for_status()


def run_day(hook: Any, day: date, poll_seconds: float = POLL_SECONDS) -> str:
    """Point the pipeline at ``day``, run one update and wait; returns the update's id.
    Raises when the pipeline is missing or the update does not complete."""
    pipeline_id = hook.find_pipeline_id_by_name(PIPELINE)
    if not pipeline_id:
        raise RuntimeError(
            f"No pipeline named {{PIPELINE}} in the workspace: deploy the bundle first "
            "(databricks bundle deploy)."
        )
    spec = hook._do_api_call(("GET", f"2.0/pipelines/{{pipeline_id}}"))["spec"]
    spec["configuration"] = {{**spec.get("configuration", {{}}), **run_parameters(day)}}
    _edit(hook, pipeline_id, {{**spec, "id": pipeline_id}})
    started = hook._do_api_call(("POST", f"2.0/pipelines/{{pipeline_id}}/updates"), {{}})
    update_id = started["update_id"]
    while True:
        update = hook._do_api_call(("GET", f"2.0/pipelines/{{pipeline_id}}/updates/{{update_id}}"))
        state = update["update"]["state"]
        if state in ENDED:
            break
        time.sleep(poll_seconds)
    if state != "COMPLETED":
        raise RuntimeError(f"{{PIPELINE}} update {{update_id}} for {{day}} ended {{state}}.")
    return update_id


@dag(
    dag_id=f"{{PIPELINE}}_databricks",
    schedule="@daily",
    start_date=datetime(2026, 11, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["medallion", "databricks"],
    doc_md=__doc__,
)
def pipeline_dag() -> None:
    @task(retries=1, retry_delay=timedelta(minutes=5))
    def update() -> str:
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        context = get_current_context()
        conf = (context.get("dag_run").conf if context.get("dag_run") else None) or {{}}
        day = date.fromisoformat(conf["date"]) if "date" in conf else context["logical_date"].date()
        return run_day(DatabricksHook(databricks_conn_id=CONNECTION), day)

    update()


pipeline_dag()
'''


def airflow_dag(pipeline: str, database: str) -> str:
    """The port's Airflow DAG: sets the day and runs one pipeline update per run."""
    del database
    return _DAG.format(pipeline=pipeline, connection="databricks_default")


def _readme(name: str, port: Port, found: Expectations) -> str:
    ported = [t for t in port.transforms if t.status == PORTED]
    left = [t for t in port.transforms if t.status != PORTED]
    rows = "\n".join(f"| {t.name} | {t.layer} | `{t.path}` |" for t in ported)
    not_ported = "\n".join(f"- {t.name}: {t.reason}" for t in left) or "- none"
    checks = "\n".join(
        f"| `{table}` | `{e.name}` | {'fail' if e.fail else 'warn'} | {e.rule} |"
        for table, found_here in sorted(found.by_table.items())
        for e in found_here
    )
    rules_left = "\n".join(f"- {rule}: {why}" for rule, why in found.not_ported) or "- none"
    return f"""# {name}: the Databricks port

Generated by `scripts/port.py {name.removeprefix("medallion_")} --target databricks`; regenerate
it rather than edit it. One Lakeflow (Spark Declarative) pipeline holds every layer, and one
update is one day of the warehouse: the day is the pipeline's configuration
(`medallion.day`, `medallion.as_of`, `medallion.known_at`, ...).

## What is where

- `transformations/`: each transform's reads and steps as temporary views, and the day's
  result as a materialized view `<table>__day`: bronze the day's extract with its load
  metadata, silver the conformed snapshot or the staged rows and the rejects, gold the
  date's rows. The SQL is the warehouse's own; reads of history functions became plain
  reads of `*_hist` views.
- `history/`: what the warehouse keeps. Each day's result is appended once to
  `<table>__changes` (a once flow named for the day: rerunning a day adds nothing);
  AUTO CDC keeps temporal tables as SCD type 2 (`<table>__scd2`, read through the view
  `<table>` with `sys_start` / `sys_end`, open versions ending 9999-12-31) and upserted
  or replaced rows as type 1. Bronze and the quarantine are appended.
- `setup.sql`: run once: the schemas, and `<table>__published` for a transform that reads
  its own earlier days (a pipeline cannot read what it writes), empty until
  `after_first_update.sql` points it at the history.
- `databricks.yml`: the bundle (the pipeline, serverless, and a job running it).
- `airflow/{name}.py`: the Airflow DAG that sets the day and runs one update per day
  (`apache-airflow-providers-databricks`, connection `databricks_default`).
- `spark-pipeline.yml`: the same pipeline for PySpark's `spark-pipelines` (set the
  configuration's values first).

## Deploy

1. Store the source database's password as the secret `medallion/source_password`.
2. `databricks bundle deploy -t dev --var source_url=... --var landing=...`
3. Run `setup.sql` on a SQL warehouse.
4. Run a day: the Airflow DAG (`dag_run.conf = {{"date": "2026-11-20"}}` for one date),
   or set the `medallion.*` values and start an update by hand.
5. After the first update, run `after_first_update.sql` once (where there is one): the
   views a transform reads its own earlier days through start empty, since the history
   they read does not exist before it.

## Transforms

| transform | layer | file |
|---|---|---|
{rows}

Not ported:
{not_ported}

## Data-quality rules as expectations

The project's row-level rules (its DAGs' quality tasks) are expectations on the streaming
table each table's daily rows reach (`<table>__changes`, or the bronze table): a `fail`
rule fails the update (`expect_all_or_fail`), a `warn` rule is recorded (`expect_all`).
The rule's `where` stays as a guard, so only the rows it covers are checked.

| table | expectation | on violation | the warehouse's rule |
|---|---|---|---|
{checks}

Rules with no row-level form stay with the warehouse's quality tasks (run them against
the published tables, e.g. from a SQL warehouse):
{rules_left}

## Where AUTO CDC differs from the warehouse

- **Keys that leave a snapshot.** The warehouse closes an instrument or portfolio missing
  from the day's snapshot (and a gold row the date no longer produces). AUTO CDC closes a
  version only on a delete event, and a snapshot has none: those versions stay open here.
  Databricks' `create_auto_cdc_from_snapshot_flow` closes them; PySpark has no such flow,
  so the port does not use it.
- **Late events.** Both order by their sequence: a trade event older than the stored
  state does not overwrite it (SCD1 by `effective_time`, as `ON CONFLICT ... WHERE`
  does). The trades' status history here takes the day's staged rows; the warehouse
  takes the trade's state after the upsert, so a stale late event adds a version here.
- **Two changes at one instant.** The warehouse keeps one version per key and instant
  (a rerun of the date replaces it); AUTO CDC keeps the later-processed event.
- **Reruns.** A rerun of a day is a no-op (its once flows ran); the warehouse replaces
  the day. **Never run a full refresh** of the pipeline or of a `__changes`, `__scd1`,
  `__scd2`, bronze or quarantine table: only the current day's once flow is in the graph,
  so a reset keeps that day alone. (`pipelines.reset.allowed = false` cannot guard them:
  a table that refuses a reset may not read the `__day` views, which can be reset.)
  Refresh a day's views with a plain update. A restatement (`medallion.known_at` later
  than the date's system time) runs gold's once flows again under new names, so gold
  takes new versions at the restatement's time, as the warehouse does; bronze and
  silver flows are the date's and do not run twice.

## Verified here, and what only Databricks can show

`scripts/check_ports.py <db> --target databricks` runs `transformations/` for each day
with PySpark's `spark-pipelines` and compares every `<table>__day` with the warehouse's
rows of that day; `history/` is checked by `spark-pipelines dry-run` (keys, sequencing
and columns resolved against the real schemas). Not shown here: once flows and AUTO CDC
running (Databricks only), serverless and Unity Catalog behaviour, the bundle, and the
DAG against a real workspace (it is tested against a local server speaking the REST API).
"""

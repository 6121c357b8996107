"""The Snowflake port of the demo: the generated files against golden copies, and the
rewrites that keep Spark's meaning.

Regenerate after an intended change with ``make test PYTEST_ARGS="--update-golden"`` and
review the diff of ``tests/_base/ports/golden/snowflake/``. ``make lint`` lints the
golden copies with the port's own ``.sqlfluff`` (Snowflake's dialect).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import sqlglot

from scripts import port as port_script
from src._base.pipeline.catalogue import (
    Catalogue,
    TransformEntry,
    load_catalogue,
    project_tables,
)
from src._base.pipeline.frames import KEY_NAMESPACE
from src._base.pipeline.shapes import BronzeAppend, GoldSnapshot, LandingFiles
from src._base.ports.snowflake import (
    NOT_PORTED,
    PORTED,
    VARIABLES,
    PortError,
    _correlated_limit,
    _spark_instant,
    _spark_json_instant,
    _spark_semantics,
    glob_regex,
    snowflake_port,
    uuid3_snowflake,
)
from src._base.ports.sqltext import TOKENS, portable_read, replace_tokens, tokenized
from tests._base.ports.golden_files import assert_golden

GOLDEN = Path(__file__).parent / "golden" / "snowflake"
SRC = Path(__file__).resolve().parents[3] / "src"


def _port():
    return snowflake_port(load_catalogue(SRC, "demo"), project_tables(SRC, "demo"), "demo_source")


def test_the_generated_files_match_the_golden_copies(request: pytest.FixtureRequest) -> None:
    assert_golden(_port().files, GOLDEN, request)


def test_generation_is_stable_and_every_transform_has_a_status() -> None:
    first, second = _port(), _port()
    assert first.files == second.files
    statuses = {t.name: t.status for t in first.transforms}
    assert len(statuses) == 13
    assert statuses["bar_to_bronze"] == PORTED  # landing files, copied from a stage
    assert statuses["trade_to_silver"] == PORTED  # UpsertRows and MergeHistory
    assert statuses["bar_to_silver"] == PORTED  # ReplaceRows
    assert statuses["position_to_gold"] == PORTED
    assert all(t.reason for t in first.transforms if t.status == NOT_PORTED)


def test_identifiers_are_unquoted_and_parameters_are_session_variables() -> None:
    for relative, text in _port().files.items():
        assert '"' not in text.replace('\\"', ""), f"{relative} quotes an identifier"
        assert not any(token in text for token in TOKENS.values()), relative
    names = list(VARIABLES.values())
    # a runner substituting $NAME textually must never read one variable as another's start
    assert not [(a, b) for a in names for b in names if a != b and b.startswith(a)]


def test_a_spark_integer_division_truncates_and_an_interval_becomes_dateadd() -> None:
    tree = sqlglot.parse_one("SELECT h + make_interval(0, 0, 0, 0, 0, m DIV 5 * 5, 0) FROM t",
                             read="spark").transform(_spark_semantics)  # fmt: skip
    sql = tree.sql("snowflake")
    assert "DATEADD(MINUTE, CAST(TRUNC(m / 5) AS BIGINT) * 5, h)" in sql, sql
    assert "INTERVAL" not in sql


def test_reads_lose_the_warehouse_history_functions_and_infinities() -> None:
    sql = tokenized(
        "SELECT * FROM gold.position_eod__as_of(TIMESTAMPTZ '{known_at}+00') p"
        " WHERE p.sys_end <> 'infinity' AND p.d > DATE '-infinity'"
    )
    tree = replace_tokens(portable_read(sql), lambda name: sqlglot.exp.var(f"${name}"))
    text = tree.sql("snowflake")
    assert "gold.position_eod_hist" in text and "__as_of" not in text.lower()
    assert "9999-12-31" in text and "0001-01-01" in text and "infinity" not in text
    assert re.search(r"sys_start <= CAST\(\(\$known_at \|\| '\+00'\)", text), text


def test_a_correlated_subquery_with_limit_is_flagged_for_snowflake() -> None:
    correlated = sqlglot.parse_one(
        "SELECT i.a, (SELECT d.c FROM d WHERE d.a = i.a ORDER BY d.b DESC LIMIT 1) FROM i"
    )
    derived = sqlglot.parse_one("SELECT x.b FROM (SELECT p.b FROM p ORDER BY p.b LIMIT 1) x")
    assert _correlated_limit(correlated) and not _correlated_limit(derived)
    reasons = {t.name: t.reason for t in _port().transforms}
    assert "correlated subquery with LIMIT" in reasons["position_to_gold"]


def test_port_refuses_a_folder_holding_something_else(tmp_path: Path, caplog) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert port_script.main(["demo", "--target", "snowflake", "--out", str(tmp_path)]) == 1
    assert "is not empty" in caplog.text and (tmp_path / "notes.txt").read_text() == "mine"
    out = tmp_path / "port"
    assert port_script.main(["demo", "--target", "snowflake", "--out", str(out)]) == 0
    (out / "gold" / "stale_to_gold.sql").write_text("-- a transform since removed")
    assert port_script.main(["demo", "--target", "snowflake", "--out", str(out)]) == 0
    assert not (out / "gold" / "stale_to_gold.sql").exists()
    assert (out / "gold" / "bar_to_gold.sql").is_file()


def test_a_step_that_does_not_parse_names_the_file_transform_and_step(tmp_path: Path) -> None:
    path = tmp_path / "broken_to_gold.py"
    path.write_text('"""A gold transform whose step is not SQL."""\n')
    spec = GoldSnapshot(
        inputs=(), reads={}, steps={"daily": "SELECT FROM WHERE ("}, target="gold.daily_bar_hist",
        keys=("business_date", "instrument_code"),
    )  # fmt: skip
    catalogue = Catalogue("demo", (TransformEntry("demo", "broken_to_gold", "gold", path, spec),))
    with pytest.raises(PortError, match=r"broken_to_gold\.py \(broken_to_gold\), step daily"):
        snowflake_port(catalogue, project_tables(SRC, "demo"), "demo_source")


def test_timestamps_print_as_spark_prints_them_in_keys_and_json() -> None:
    step = (
        "SELECT concat_ws('@', symbol, cast(bar_time AS STRING)) AS record_key,"
        " to_json(named_struct('bar_time', bar_time, 'symbol', symbol)) AS record,"
        " cast(symbol AS STRING) AS name FROM checked"
    )
    types = {"bar_time": "TIMESTAMP", "symbol": "STRING"}
    sql = (
        sqlglot.parse_one(step, read="spark")
        .transform(lambda n: _spark_semantics(n, types))
        .sql("snowflake")
    )
    instant = "SUBSTRING(CAST(CONVERT_TIMEZONE('UTC', bar_time) AS VARCHAR), 1, 19)"
    assert sql.count(instant) == 2, sql
    assert f"REPLACE({instant}, ' ', 'T') || '.' ||" in sql
    assert "CAST(symbol AS VARCHAR) AS name" in sql  # only timestamps change


def test_on_snowflakes_sql_keys_and_instants_come_out_as_the_warehouse_and_spark_write_them():
    """Run under fakesnow: the name-based keys equal Python's uuid3 (what the warehouse
    stores), and instants print as Spark prints them, fractions included."""
    import fakesnow
    import snowflake.connector

    names = ["T20261119-0000005", "FCW@2026-11-19 17:04:00", "é-ü ✓"]
    instants = {
        "2026-11-19 17:04:00+00:00": ("2026-11-19 17:04:00", "2026-11-19T17:04:00.000Z"),
        "2026-11-18 22:20:49.370123+00:00": ("2026-11-18 22:20:49.370123",
                                             "2026-11-18T22:20:49.370Z"),
        "2026-11-18 23:20:49.5+01:00": ("2026-11-18 22:20:49.5", "2026-11-18T22:20:49.500Z"),
    }  # fmt: skip
    with fakesnow.patch():
        conn = snowflake.connector.connect(database="PROOF", schema="PUBLIC")
        cur = conn.cursor()
        for name in names:
            literal = sqlglot.exp.Literal.string(name)
            cur.execute(f"SELECT {uuid3_snowflake(literal).sql('snowflake')}")
            assert cur.fetchone()[0] == str(uuid.uuid3(KEY_NAMESPACE, name)), name
        for value, (text, json_text) in instants.items():
            column = sqlglot.exp.cast(sqlglot.exp.Literal.string(value), "TIMESTAMPTZ")
            plain = _spark_instant(column).sql("snowflake")
            written = _spark_json_instant(column).sql("snowflake")
            cur.execute(f"SELECT {plain}, {written}")
            assert cur.fetchone() == (text, json_text), value
        conn.close()


def test_a_function_without_a_snowflake_rendering_leaves_its_transform_not_ported(
    tmp_path: Path,
) -> None:
    path = tmp_path / "odd_to_gold.py"
    path.write_text('"""A gold transform calling a function only its own engine has."""\n')
    spec = GoldSnapshot(
        inputs=(), reads={}, steps={"daily": "SELECT my_udf(1) AS x"},
        target="gold.daily_bar_hist", keys=("business_date", "instrument_code"),
    )  # fmt: skip
    catalogue = Catalogue("demo", (TransformEntry("demo", "odd_to_gold", "gold", path, spec),))
    port = snowflake_port(catalogue, project_tables(SRC, "demo"), "demo_source")
    [entry] = port.transforms
    assert (
        entry.status == NOT_PORTED and "my_udf() has no known Snowflake rendering" in entry.reason
    )
    assert "gold/odd_to_gold.sql" not in port.files


def test_a_landing_glob_becomes_a_whole_path_regex() -> None:
    regex = glob_regex("bars_1m/symbol=*/day=2?.parquet")
    assert regex == "bars_1m/symbol=[^/]*/day=2[^/][.]parquet"
    assert re.fullmatch(regex, "bars_1m/symbol=0700/day=20.parquet")
    assert not re.fullmatch(regex, "bars_1m/symbol=A/B/day=20.parquet")  # * stays in a folder
    assert not re.fullmatch(regex, "bars_1m/symbol=A/day=20xparquet")


def _landing_entry(tmp_path: Path, landed: str, source: str = "") -> Catalogue:
    path = tmp_path / "tick_to_bronze.py"
    path.write_text('"""A bronze load of landing files."""\n')
    spec = BronzeAppend(
        source=LandingFiles("ticks", "day={dd}.parquet", source=source),
        landed=landed,
        target="bronze.br_minute_bar",
    )
    return Catalogue("demo", (TransformEntry("demo", "tick_to_bronze", "bronze", path, spec),))


def test_a_file_column_whose_type_nothing_says_leaves_the_load_not_ported(tmp_path) -> None:
    landed = "SELECT upper(sym) AS symbol, px AS open FROM source"
    port = snowflake_port(_landing_entry(tmp_path, landed), project_tables(SRC, "demo"), "src")
    [entry] = port.transforms
    assert entry.status == NOT_PORTED and "file column(s) sym" in entry.reason, entry.reason
    typed = "SELECT sym AS symbol, px AS open FROM source"
    port = snowflake_port(_landing_entry(tmp_path, typed), project_tables(SRC, "demo"), "src")
    assert port.transforms[0].status == PORTED
    assert "  sym VARCHAR,\n  px FLOAT\n" in port.files["00_tables.sql"]


def test_a_landing_source_whose_variables_would_read_as_others_is_refused(tmp_path) -> None:
    landed = "SELECT sym AS symbol FROM source"
    with pytest.raises(PortError, match=r"\$DAY begins \$DAY_ZONE.*Rename the landing source"):
        snowflake_port(_landing_entry(tmp_path, landed, "day"), project_tables(SRC, "demo"), "s")


def test_the_proof_copies_landing_files_one_by_one_naming_each_and_only_once(tmp_path) -> None:
    """fakesnow has no METADATA$FILENAME: the proof's stand-in copies each file the
    pattern matches on its own, naming it, and COPY's load history skips it next time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from src._base.ports.proof import SnowflakeRun

    for symbol in ("A", "0700"):
        folder = tmp_path / "zone" / "bars_1m" / f"symbol={symbol}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"open": [1.5, 2.5]}), folder / "day=20.parquet")
        (folder / "day=20.parquet.tmp").write_text("a file being written")
    run = SnowflakeRun("landing_proof")
    try:
        run.conn.cursor().execute("CREATE SCHEMA IF NOT EXISTS bronze")
        run.add_stage("bronze.LANDING", tmp_path / "zone")
        run.conn.cursor().execute(
            "CREATE TABLE bronze.copied (file_name VARCHAR, file_modified TIMESTAMP_NTZ, "
            "open FLOAT)"
        )
        copy = (
            "COPY INTO bronze.copied (file_name, file_modified, open)\n"
            "FROM (SELECT METADATA$FILENAME, METADATA$FILE_LAST_MODIFIED, $1:open\n"
            "  FROM @bronze.LANDING/bars_1m/)\nPATTERN = '.*[.]parquet'\n"
            "FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE);\n"
        )
        run.run(copy, "copy")
        run.run(copy, "copy again")
        rows = run.rows("bronze.copied", ["file_name", "open"], " ORDER BY 1, 2")
    finally:
        run.close()
    assert rows == [
        ("bars_1m/symbol=0700/day=20.parquet", 1.5),
        ("bars_1m/symbol=0700/day=20.parquet", 2.5),
        ("bars_1m/symbol=A/day=20.parquet", 1.5),
        ("bars_1m/symbol=A/day=20.parquet", 2.5),
    ]

"""The Databricks port of the demo: the generated project against golden copies, the
pieces that must mean what the warehouse means, and the port's Airflow DAG against a
local server speaking the Databricks REST API.

Regenerate after an intended change with ``make test PYTEST_ARGS="--update-golden"`` and
review the diff of ``tests/_base/ports/golden/databricks/``. ``make lint`` lints the
golden copies: SQL with the port's own ``.sqlfluff`` (Databricks' dialect), Python with
ruff and black.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from src._base.pipeline.catalogue import Catalogue, load_catalogue, project_tables
from src._base.pipeline.frames import KEY_NAMESPACE, uuid3_sql
from src._base.pipeline.run_config import BATCH_NAMESPACE
from src._base.pipeline.shapes import MergeHistory, Publications
from src._base.ports.databricks import (
    NOT_PORTED,
    PORTED,
    databricks_port,
    self_reads,
    uuid5_sql,
)
from src._base.ports.sqltext import TOKENS
from src.orchestration.local_airflow import ensure_metadata_db, quality_rules
from tests._base.ports.golden_files import assert_golden

GOLDEN = Path(__file__).parent / "golden" / "databricks"
SRC = Path(__file__).resolve().parents[3] / "src"


def _port(catalogue: Catalogue | None = None):
    catalogue = catalogue or load_catalogue(SRC, "demo")
    rules = quality_rules("demo")
    return databricks_port(catalogue, project_tables(SRC, "demo"), "demo_source", rules)


def test_the_generated_files_match_the_golden_copies(request: pytest.FixtureRequest) -> None:
    assert_golden(_port().files, GOLDEN, request)


def test_every_transform_is_ported_with_its_history_and_parameters_are_configuration() -> None:
    port = _port()
    assert port.files == _port().files  # stable
    statuses = {t.name: t.status for t in port.transforms}
    assert len(statuses) == 13 and set(statuses.values()) == {PORTED}
    for relative, text in port.files.items():
        assert not any(token in text for token in TOKENS.values()), relative
        if relative.endswith(".py"):
            compile(text, relative, "exec")  # every generated module is valid Python
    files = port.files
    # One pipeline, both halves; the bundle carries the same libraries and configuration.
    spec = yaml.safe_load(files["spark-pipeline.yml"])
    includes = [lib["glob"]["include"] for lib in spec["libraries"]]
    assert includes == ["transformations/**", "history/**"]
    bundle = yaml.safe_load(files["databricks.yml"])
    [pipeline] = bundle["resources"]["pipelines"].values()
    assert [lib["glob"]["include"] for lib in pipeline["libraries"]] == includes
    assert set(spec["configuration"]) <= set(pipeline["configuration"])
    assert pipeline["configuration"]["medallion.source.password"].startswith("{{secrets/")
    # Temporal tables: AUTO CDC SCD2 ordered by the date's system time, read through a
    # view with our column names; upserts SCD1 ordered by the newer column.
    silver = files["history/silver/instrument_to_silver.py"]
    assert 'target="silver.instrument_hist__scd2"' in silver
    assert "stored_as_scd_type=2" in silver and 'keys=["instrument_code"]' in silver
    assert "${medallion.as_of}+00:00' AS TIMESTAMP) AS medallion_sequence" in silver
    assert "WHERE d.is_valid" in silver  # a rejected row never changes a version
    view = files["history/silver/instrument_to_silver.sql"]
    assert "CREATE VIEW silver.instrument_hist AS" in view and "__start_at AS sys_start" in view
    trades = files["history/silver/trade_to_silver.py"]
    assert "d.effective_time AS medallion_sequence" in trades
    assert "stored_as_scd_type=1" in trades
    # The DAGs' row-level rules are expectations where the day's rows arrive.
    assert '"accepted_values_trade_status_type_id": (' in trades and "**expecting(" in trades
    assert (
        "MIN_BY(first_event_time, medallion_sequence)"
        in files["history/silver/trade_to_silver.sql"]
    )  # a column the upsert only inserts keeps its first value
    # Gold reads its own earlier days outside the graph (a pipeline cannot read what it
    # writes), and setup.sql creates that view.
    assert self_reads(load_catalogue(SRC, "demo")) == ["gold.position_eod_hist"]
    positions = files["transformations/gold/position_to_gold.sql"]
    assert "gold.position_eod_hist__published" in positions
    assert "CREATE MATERIALIZED VIEW gold.position_eod_hist__day AS" in positions
    assert "VIEW IF NOT EXISTS gold.position_eod_hist__published" in files["setup.sql"]
    assert "FROM gold.position_eod_hist__scd2" in files["after_first_update.sql"]
    # Parameters stand as ${medallion.<name>}; sources come from the configuration.
    assert "CAST('${medallion.day}' AS DATE)" in files["transformations/gold/trade_kpi_to_gold.sql"]
    bronze = files["transformations/bronze/trade_to_bronze.py"]
    assert 'spark.conf.get("medallion.source.url")' in bronze and "password" in bronze
    assert "recorded_date = DATE '{day}'" in bronze  # pushed down as the warehouse does


def test_a_load_whose_history_reads_another_table_is_not_ported_and_says_why() -> None:
    catalogue = load_catalogue(SRC, "demo")
    entries = []
    for entry in catalogue.entries:
        if entry.name == "trade_to_silver":
            upsert, merge = entry.spec.publish.parts
            wrong = replace(merge, source=merge.source.replace("silver.trade", "silver.other"))
            assert isinstance(wrong, MergeHistory)
            spec = replace(entry.spec, publish=Publications((upsert, wrong)))
            entry = replace(entry, spec=spec)
        entries.append(entry)
    port = _port(replace(catalogue, entries=tuple(entries)))
    [trades] = [t for t in port.transforms if t.name == "trade_to_silver"]
    assert trades.status == NOT_PORTED and "silver.other" in trades.reason
    assert not any("trade_to_silver" in path for path in port.files if "/" in path)


def test_batch_ids_and_keys_in_spark_sql_equal_the_warehouse_s(spark) -> None:
    names = ["bar_to_silver/2026-11-20", "trade_to_silver/2026-11-19", "x/ü"]
    for name in names:
        [[batch]] = spark.sql(f"SELECT {uuid5_sql(repr(name), BATCH_NAMESPACE)}").collect()
        assert batch == str(uuid.uuid5(BATCH_NAMESPACE, name))
        [[key]] = spark.sql(f"SELECT {uuid3_sql(repr(name))}").collect()
        assert key == str(uuid.uuid3(KEY_NAMESPACE, name))


def _dag_module(tmp_path: Path) -> Any:
    text = _port().files["airflow/medallion_demo.py"]
    path = tmp_path / "medallion_demo_dag.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("medallion_demo_dag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def workspace(httpserver, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A local server speaking the Pipelines API of a workspace with the demo's pipeline;
    Airflow's connection points at it."""
    connection = {
        "conn_type": "databricks", "host": httpserver.host, "port": httpserver.port,
        "schema": "http", "password": "local-token",
    }  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", json.dumps(connection))
    return httpserver


def _serve_pipeline(server: Any, states: list[str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    server.expect_request("/api/2.0/pipelines", method="GET").respond_with_json(
        {"statuses": [{"pipeline_id": "p-1", "name": "medallion_demo"}]}
    )
    spec = {"id": "p-1", "name": "medallion_demo", "configuration": {"medallion.landing": "/x"}}
    server.expect_request("/api/2.0/pipelines/p-1", method="GET").respond_with_json(
        {"pipeline_id": "p-1", "spec": spec}
    )

    def edit(request: Any) -> Any:
        from werkzeug import Response

        seen["edit"] = request.get_json()
        return Response("{}", content_type="application/json")

    server.expect_request("/api/2.0/pipelines/p-1", method="PUT").respond_with_handler(edit)
    server.expect_request("/api/2.0/pipelines/p-1/updates", method="POST").respond_with_json(
        {"update_id": "u-7"}
    )
    for state in states:
        server.expect_oneshot_request(
            "/api/2.0/pipelines/p-1/updates/u-7", method="GET"
        ).respond_with_json({"update": {"update_id": "u-7", "state": state}})
    return seen


def test_the_dag_sets_the_day_and_waits_for_the_update(workspace, tmp_path: Path) -> None:
    from airflow.providers.databricks.hooks.databricks import DatabricksHook

    module = _dag_module(tmp_path)
    seen = _serve_pipeline(workspace, ["RUNNING", "COMPLETED"])
    hook = DatabricksHook(databricks_conn_id="databricks_default")
    assert module.run_day(hook, date(2026, 11, 20), poll_seconds=0) == "u-7"
    configuration = seen["edit"]["configuration"]
    assert configuration["medallion.landing"] == "/x"  # the rest of the spec is kept
    assert configuration["medallion.day"] == "2026-11-20"
    assert configuration["medallion.as_of"] == "2026-11-21 00:00:00"
    assert configuration["medallion.known_at"] == "2026-11-21 00:00:00.000000"
    assert configuration["medallion.dd"] == "20" and configuration["medallion.prev"] == "2026-11-19"


def test_the_dag_fails_on_a_failed_update_and_on_a_missing_pipeline(
    workspace, tmp_path: Path
) -> None:
    from airflow.providers.databricks.hooks.databricks import DatabricksHook

    module = _dag_module(tmp_path)
    _serve_pipeline(workspace, ["FAILED"])
    hook = DatabricksHook(databricks_conn_id="databricks_default", retry_limit=1)
    with pytest.raises(
        RuntimeError, match=r"medallion_demo update u-7 for 2026-11-20 ended FAILED"
    ):
        module.run_day(hook, date(2026, 11, 20), poll_seconds=0)
    workspace.clear()
    workspace.expect_request("/api/2.0/pipelines", method="GET").respond_with_json({})
    with pytest.raises(RuntimeError, match=r"No pipeline named medallion_demo.*bundle deploy"):
        module.run_day(hook, date(2026, 11, 20), poll_seconds=0)


def test_the_dag_runs_under_airflow_for_the_date_in_its_conf(
    workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    ensure_metadata_db()
    path = tmp_path / "dags"
    bundle = {
        "name": "databricks-port",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(path)},
    }
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
    path.mkdir()
    (path / "medallion_demo.py").write_text(
        _port()
        .files["airflow/medallion_demo.py"]
        .replace("POLL_SECONDS = 30.0", "POLL_SECONDS = 0.0")
    )
    bag = DagBag(dag_folder=str(path))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("medallion_demo_databricks")
    seen = _serve_pipeline(workspace, ["COMPLETED"])
    run = dag.test(logical_date=datetime(2026, 11, 25, tzinfo=UTC), run_conf={"date": "2026-11-19"})
    assert str(getattr(run.state, "value", run.state)) == "success"
    assert seen["edit"]["configuration"]["medallion.day"] == "2026-11-19"


def test_a_failed_run_is_reported_by_its_flow_and_cause() -> None:
    from src._base.ports.sdp_local import first_error

    output = """2026-12-02 02:06:28: Loading pipeline spec from run.yml...
/x/conf.py:61: UserWarning: Failed to set a conf due to [CANNOT_MODIFY_STATIC_CONFIG]
Traceback (most recent call last):
  File "/x/cli.py", line 450, in <module>
pyspark.errors.exceptions.connect.AnalysisException:
Failed to resolve flows in the pipeline.
Flows with errors: spark_catalog.gold.daily_bar_hist__day
Flows that failed due to upstream errors:
Error: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column `no_such_column` cannot be resolved.
\tat org.apache.spark.sql.X(X.scala:1)
"""
    assert first_error(output) == (
        "flow(s) spark_catalog.gold.daily_bar_hist__day: [UNRESOLVED_COLUMN.WITH_SUGGESTION]"
        " A column `no_such_column` cannot be resolved."
    )
    assert first_error("") == "no output"


def test_row_level_rules_become_expectations_that_mean_the_same(spark) -> None:
    from src._base.ports.expectations import expectations
    from src._base.quality.rules import AcceptedValues, NotNull, RowCondition, Unique

    rules = [
        NotNull("silver.trade", ("price",), key="source_trade_id", where="trade_date = %(day)s"),
        AcceptedValues("silver.trade", "action_type_id", (1, 2), key="source_trade_id"),
        RowCondition("positive", "silver.minute_bar", "volume >= 0", "bar_time", severity="warn"),
        RowCondition("reached", "bronze.br_trade b", "EXISTS (SELECT 1 FROM silver.trade t)", "k"),
        Unique("silver.trade", ("source_trade_id",)),
        NotNull("ops.elsewhere", ("x",), key="x"),
    ]
    found = expectations(rules, load_catalogue(SRC, "demo"))
    [price, action] = found.by_table["silver.trade"]
    [volume] = found.by_table["silver.minute_bar"]
    assert price.fail and action.fail and not volume.fail
    assert [why.split(";")[0] for _, why in found.not_ported] == [
        "it reads other rows or tables (a subquery)",
        "it compares rows, tables or a day's totals",
        "its table is not one a transform writes",
    ]
    spark.conf.set("medallion.day", "2026-11-20")
    try:
        rows = "VALUES (DATE'2026-11-20', NULL, 1), (DATE'2026-11-19', NULL, 3), "
        rows += "(DATE'2026-11-20', 2.5, NULL)"
        checked = spark.sql(
            f"SELECT ({price.condition}) AS price, ({action.condition}) AS action "
            f"FROM {rows} AS t(trade_date, price, action_type_id)"
        ).collect()
    finally:
        spark.conf.unset("medallion.day")
    # the day's NULL price fails, another day's passes (the rule's where); NULL is no value
    assert [(r.price, r.action) for r in checked] == [(False, True), (True, False), (True, False)]


def test_the_view_a_transform_reads_its_own_days_through_starts_empty_with_their_columns(
    spark,
) -> None:
    """Before the first update there is no history: setup.sql's view is empty, typed as
    the history view after_first_update.sql replaces it with."""
    files = _port().files
    [select] = [
        part.split(" AS\n", 1)[1].rstrip(";\n")
        for part in files["setup.sql"].split("\n\n")
        if "gold.position_eod_hist__published" in part
    ]
    empty = spark.sql(select)
    assert empty.count() == 0
    after = files["after_first_update.sql"].split("SELECT ", 1)[1].split("FROM")[0]
    named = [line.strip().rstrip(",").split(" AS ")[-1] for line in after.strip().splitlines()]
    assert empty.columns == named
    assert dict(empty.dtypes)["quantity"] == "decimal(20,4)"

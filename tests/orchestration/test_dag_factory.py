"""The DAG factory: every spec error is caught before a DAG exists, naming the culprit
and the DAG file; a valid spec gives the expected tasks, order and schedule."""

from __future__ import annotations

import pytest

from src._base.quality.rules import KpiBounds
from src.orchestration.dag_factory import ETLTask, QualityTask, dag_factory
from src.utils.errors import DagSpecError

CHECK = KpiBounds("rows", "SELECT 1", low=1)


def build(*tasks, layer: str = "silver", **kwargs):
    return dag_factory(dag_id="t_silver", database="demo", layer=layer, tasks=list(tasks), **kwargs)


def test_a_valid_spec_builds_the_dag_with_inherited_and_declared_order() -> None:
    dag = build(
        ETLTask("instrument_to_silver"),
        ETLTask("trade_to_silver"),  # its file says AFTER instrument/portfolio_to_silver
        QualityTask("dq_trade_nulls", checks=[CHECK], after=["trade_to_silver"]),
        QualityTask("dq_any_rows", checks=[CHECK]),  # after every load
    )
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {
        "instrument_to_silver": [],
        "trade_to_silver": ["instrument_to_silver"],
        "dq_trade_nulls": ["trade_to_silver"],
        "dq_any_rows": ["instrument_to_silver", "trade_to_silver"],
        "silver_published": sorted(
            ["instrument_to_silver", "trade_to_silver", "dq_trade_nulls", "dq_any_rows"]
        ),
    }
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert "expression='0 0 * * *', timezone='UTC'" in repr(dag.timetable)
    assert dag.default_args["retries"] == 3
    [asset] = dag.get_task("silver_published").outlets
    assert asset.uri == "medallion://demo/silver"


def test_a_duplicate_task_name_is_refused() -> None:
    with pytest.raises(DagSpecError, match=r"test_dag_factory\.py: DAG 't_silver': task "
                       r"'trade_to_silver' is declared twice"):  # fmt: skip
        build(ETLTask("trade_to_silver"), ETLTask("trade_to_silver"))


def test_a_missing_transform_file_suggests_the_closest_one() -> None:
    with pytest.raises(DagSpecError, match=r"transform file .*silver/trade_silver\.py does not "
                       r"exist\. Did you mean 'trade_to_silver\.py'\?"):  # fmt: skip
        build(ETLTask("trade_to_silver", transform="trade_silver.py"))


def test_a_load_not_named_source_to_layer_is_refused() -> None:
    with pytest.raises(DagSpecError, match="load 'trade_to_gold' must be named <source>_to_silver"):
        build(ETLTask("trade_to_gold", transform="trade_to_silver.py"))


def test_a_quality_task_not_named_dq_entity_rule_is_refused() -> None:
    with pytest.raises(DagSpecError, match="quality task 'check_trades' must be named "
                       "dq_<entity>_<rule>"):  # fmt: skip
        build(ETLTask("trade_to_silver"), QualityTask("check_trades", checks=[CHECK]))


def test_a_quality_task_without_checks_is_refused() -> None:
    with pytest.raises(DagSpecError, match="quality task 'dq_trade_nulls' has no checks"):
        build(ETLTask("trade_to_silver"), QualityTask("dq_trade_nulls"))


def test_an_unknown_upstream_task_is_named() -> None:
    with pytest.raises(DagSpecError, match=r"'dq_trade_nulls' runs after unknown task\(s\) "
                       r"\['trade_to_silvr'\]"):  # fmt: skip
        build(
            ETLTask("trade_to_silver"),
            QualityTask("dq_trade_nulls", checks=[CHECK], after=["trade_to_silvr"]),
        )


def test_a_dependency_cycle_is_named() -> None:
    with pytest.raises(DagSpecError, match="tasks depend on each other in a cycle: "):
        build(
            ETLTask("instrument_to_silver", after=["portfolio_to_silver"]),
            ETLTask("portfolio_to_silver", after=["instrument_to_silver"]),
        )


def test_an_unknown_layer_or_database_is_refused() -> None:
    with pytest.raises(DagSpecError, match="unknown layer 'platinum'"):
        build(ETLTask("trade_to_platinum"), layer="platinum")
    with pytest.raises(DagSpecError, match=r"no transforms folder .* for database 'nope'"):
        dag_factory(dag_id="x", database="nope", layer="silver", tasks=[])


def test_the_layer_defaults_to_the_dag_files_folder() -> None:
    dag = dag_factory(
        dag_id="t_gold",
        database="demo",
        tasks=[ETLTask("bar_to_gold")],
        dag_file="/repo/airflow/dags/gold/t_gold.py",
    )
    assert {t.task_id for t in dag.tasks} == {"bar_to_gold", "gold_published"}
    with pytest.raises(
        DagSpecError, match=r"/repo/airflow/dags/misc/x\.py: DAG 'x': unknown layer"
    ):
        dag_factory(dag_id="x", database="demo", tasks=[], dag_file="/repo/airflow/dags/misc/x.py")

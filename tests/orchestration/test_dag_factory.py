"""The DAG factory: loads come from the transform catalogue, every spec error is caught
before a DAG exists (naming the culprit and the DAG file), and a valid spec gives the
expected tasks, order and schedule."""

from __future__ import annotations

import pytest

from src._base.quality.rules import KpiBounds
from src.config import SRC_PATH
from src.orchestration.dag_factory import QualityTask, dag_factory
from src.utils.errors import DagSpecError

CHECK = KpiBounds("rows", "SELECT 1", low=1)


def build(*tasks, layer: str = "silver", **kwargs):
    options = {"src_path": SRC_PATH, **kwargs}
    return dag_factory(
        dag_id="t_silver", database="demo", layer=layer, tasks=list(tasks), **options
    )


def test_every_transform_of_the_layer_is_a_load_in_its_declared_order() -> None:
    dag = build(
        QualityTask("dq_trade_nulls", checks=[CHECK], after=["trade_to_silver"]),
        QualityTask("dq_any_rows", checks=[CHECK]),  # after every load
    )
    loads = ["bar_to_silver", "instrument_to_silver", "portfolio_to_silver", "trade_to_silver"]
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {
        "instrument_to_silver": [],
        "portfolio_to_silver": [],
        "bar_to_silver": ["instrument_to_silver"],
        "trade_to_silver": ["instrument_to_silver", "portfolio_to_silver"],
        "dq_trade_nulls": ["trade_to_silver"],
        "dq_any_rows": loads,
        "silver_published": sorted([*loads, "dq_trade_nulls", "dq_any_rows"]),
    }
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert "expression='0 0 * * *', timezone='UTC'" in repr(dag.timetable)
    assert dag.default_args["retries"] == 3
    [asset] = dag.get_task("silver_published").outlets
    assert asset.uri == "medallion://demo/silver"


def test_a_quality_task_named_like_a_load_is_refused() -> None:
    with pytest.raises(DagSpecError, match=r"test_dag_factory\.py: DAG 't_silver': task "
                       r"'dq_x_rows' is declared twice"):  # fmt: skip
        build(QualityTask("dq_x_rows", checks=[CHECK]), QualityTask("dq_x_rows", checks=[CHECK]))


def test_loads_are_not_declared_in_the_dag_file() -> None:
    with pytest.raises(DagSpecError, match=r"'trade_to_silver' is not a QualityTask; loads come "
                       "from the transform catalogue"):  # fmt: skip
        build("trade_to_silver")


def test_a_quality_task_not_named_dq_entity_rule_is_refused() -> None:
    with pytest.raises(DagSpecError, match="quality task 'check_trades' must be named "
                       "dq_<entity>_<rule>"):  # fmt: skip
        build(QualityTask("check_trades", checks=[CHECK]))


def test_a_quality_task_without_checks_is_refused() -> None:
    with pytest.raises(DagSpecError, match="quality task 'dq_trade_nulls' has no checks"):
        build(QualityTask("dq_trade_nulls"))


def test_an_unknown_upstream_task_is_named() -> None:
    with pytest.raises(DagSpecError, match=r"tasks run after unknown task\(s\) "
                       r"\['trade_to_silvr'\]"):  # fmt: skip
        build(QualityTask("dq_trade_nulls", checks=[CHECK], after=["trade_to_silvr"]))


def test_a_dependency_cycle_is_named() -> None:
    with pytest.raises(DagSpecError, match="tasks depend on each other in a cycle: "):
        build(
            QualityTask("dq_a_rows", checks=[CHECK], after=["dq_b_rows"]),
            QualityTask("dq_b_rows", checks=[CHECK], after=["dq_a_rows"]),
        )


def test_a_broken_transform_of_the_layer_fails_its_dag_naming_the_file(make_project) -> None:
    project = make_project()
    project.write("transforms/gold/a_to_gold.py", "VALUE = 1\n")
    project.write("transforms/bronze/x_to_bronze.py", "import nothing_here\n")
    with pytest.raises(DagSpecError, match=r"(?s)DAG 'x': The gold transforms of .*/a_to_gold\.py "
                       "must define TRANSFORM"):  # fmt: skip
        dag_factory(dag_id="x", database=project.name, layer="gold", tasks=[], src_path=project.src)


def test_an_unknown_layer_or_database_is_refused() -> None:
    with pytest.raises(DagSpecError, match="Unknown layer 'platinum'"):
        build(layer="platinum")
    with pytest.raises(DagSpecError, match=r"Unknown database 'nope'"):
        dag_factory(dag_id="x", database="nope", layer="silver", tasks=[], src_path=SRC_PATH)


def test_the_layer_defaults_to_the_dag_files_folder() -> None:
    dag = dag_factory(
        dag_id="t_gold", database="demo", tasks=[], dag_file="/repo/airflow/dags/gold/t_gold.py"
    )
    assert {t.task_id for t in dag.tasks} == {
        "bar_to_gold", "timeframe_bar_to_gold", "trade_kpi_to_gold", "position_to_gold",
        "portfolio_value_to_gold", "gold_published",
    }  # fmt: skip
    with pytest.raises(
        DagSpecError, match=r"/repo/airflow/dags/misc/x\.py: DAG 'x': Unknown layer"
    ):
        dag_factory(dag_id="x", database="demo", tasks=[], dag_file="/repo/airflow/dags/misc/x.py")

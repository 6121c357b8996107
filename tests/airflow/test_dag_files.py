"""The DAG files under airflow/dags: they import cleanly and have the expected shape."""

from __future__ import annotations

import pytest

from src.config import SRC_PATH
from src.orchestration.local_airflow import DAGS_FOLDER

LOADS = {
    f"demo_{layer}": sorted(f"{source}_to_{layer}" for source in sources)
    for layer, sources in {
        "bronze": ("bar", "instrument", "portfolio", "trade"),
        "silver": ("bar", "instrument", "portfolio", "trade"),
        "gold": ("bar", "portfolio_value", "position", "timeframe_bar", "trade_kpi"),
    }.items()
}


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_every_dag_file_imports_without_errors(bag) -> None:
    assert bag.import_errors == {}
    demo = sorted(d for d in bag.dags if d.startswith("demo_"))  # a user's DAGs may sit beside
    assert demo == ["demo_bronze", "demo_gold", "demo_prices", "demo_silver"]
    assert not list(DAGS_FOLDER.parent.rglob("__init__.py"))


@pytest.mark.parametrize("dag_id", sorted(LOADS))
def test_each_layer_has_its_loads_checks_and_a_final_publish(bag, dag_id: str) -> None:
    from src.orchestration.operators import SourceLoadOperator

    dag = bag.dags[dag_id]
    layer = dag_id.split("_")[1]
    loads = sorted(t.task_id for t in dag.tasks if t.task_id.endswith(f"_to_{layer}"))
    checks = [t for t in dag.tasks if t.task_id.startswith("dq_")]
    assert loads == LOADS[dag_id]
    waiting = [t for t in dag.tasks if isinstance(t, SourceLoadOperator)]
    if layer == "bronze":  # every load waits for its source itself, rescheduling between checks
        assert sorted(t.task_id for t in waiting) == loads
        assert all(w.mode == "reschedule" and w.timeout == 12 * 3600 for w in waiting)
        assert all(not dag.get_task(load).upstream_task_ids for load in loads)
    else:
        assert not waiting
    assert checks, "every layer checks its data"
    for check in checks:  # quality runs after the loads it checks
        assert check.upstream_task_ids and check.upstream_task_ids <= set(loads)
    published = dag.get_task(f"{layer}_published")
    others = {t.task_id for t in dag.tasks} - {published.task_id}
    assert published.upstream_task_ids == others
    assert [a.uri for a in published.outlets] == [f"medallion://demo/{layer}"]
    assert dag.max_active_runs == 1
    assert set(dag.tags) == {"demo", layer}


def test_layers_follow_each_other_through_assets(bag) -> None:
    bronze, silver, gold = (bag.dags[f"demo_{layer}"] for layer in ("bronze", "silver", "gold"))
    assert "expression='0 0 * * *', timezone='UTC'" in repr(bronze.timetable)
    assert "uri='medallion://demo/bronze'" in repr(silver.timetable)
    assert "uri='medallion://demo/silver'" in repr(gold.timetable)


def test_loads_follow_their_transforms_declared_order(bag) -> None:
    silver, gold = bag.dags["demo_silver"], bag.dags["demo_gold"]
    assert silver.get_task("trade_to_silver").upstream_task_ids == {
        "instrument_to_silver",
        "portfolio_to_silver",
    }
    assert gold.get_task("position_to_gold").upstream_task_ids == {"bar_to_gold"}
    value = gold.get_task("portfolio_value_to_gold")
    assert value.upstream_task_ids == {"bar_to_gold", "position_to_gold"}
    retry = silver.get_task("trade_to_silver")
    assert retry.retries == 3 and retry.retry_exponential_backoff


def test_every_transform_of_every_project_is_a_task_of_its_layers_dag(bag) -> None:
    from src._base.build.discovery import discover
    from src._base.pipeline.catalogue import load_catalogue

    tasks = {(dag.tags and tuple(sorted(dag.tags)), t.task_id) for dag in bag.dags.values()
             for t in dag.tasks}  # fmt: skip
    for database in discover(SRC_PATH):
        for entry in load_catalogue(SRC_PATH, database).entries:
            tags = tuple(sorted((database, entry.layer)))
            assert (tags, entry.name) in tasks, f"{entry.path} belongs to no DAG"

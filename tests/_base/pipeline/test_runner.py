"""Transform discovery and ordering: names, AFTER lists, cycles, unknown names."""

from __future__ import annotations

import pytest

from src._base.pipeline.runner import discover_transforms, select_transforms
from src.config import SRC_PATH
from src.utils.errors import DefinitionError, PipelineError

RUN = "def run(spark, cfg):\n    raise NotImplementedError\n"


def test_the_demo_transforms_run_layer_by_layer_in_dependency_order() -> None:
    names = [(t.layer, t.name) for t in discover_transforms(SRC_PATH, "demo")]
    layers = [layer for layer, _ in names]
    assert layers == sorted(layers, key=("bronze", "silver", "gold").index)
    order = [name for _, name in names]
    assert order.index("instrument_to_silver") < order.index("trade_to_silver")
    assert order.index("portfolio_to_silver") < order.index("trade_to_silver")
    assert order.index("bar_to_gold") < order.index("position_to_gold")
    assert order.index("position_to_gold") < order.index("portfolio_value_to_gold")


def test_a_transform_not_named_source_to_layer_is_refused(make_project) -> None:
    project = make_project()
    project.write("transforms/silver/trades_silver.py", RUN)
    with pytest.raises(
        DefinitionError,
        match=r"trades_silver.py: a silver transform is named " r"<source>_to_silver.py",
    ):
        discover_transforms(project.src, project.name)


def test_a_transform_in_the_wrong_layer_folder_is_refused(make_project) -> None:
    project = make_project()
    project.write("transforms/gold/trade_to_silver.py", RUN)
    with pytest.raises(DefinitionError, match=r"a gold transform is named <source>_to_gold\.py"):
        discover_transforms(project.src, project.name)


def test_after_must_name_a_transform_of_the_same_layer(make_project) -> None:
    project = make_project()
    project.write("transforms/silver/a_to_silver.py", RUN + 'AFTER = ("b_to_silver",)\n')
    with pytest.raises(
        DefinitionError,
        match=r"AFTER names b_to_silver, not a transform of the "
        r"silver layer \(known: a_to_silver\)",
    ):
        discover_transforms(project.src, project.name)


def test_a_dependency_cycle_is_named(make_project) -> None:
    project = make_project()
    project.write("transforms/gold/a_to_gold.py", RUN + 'AFTER = ("b_to_gold",)\n')
    project.write("transforms/gold/b_to_gold.py", RUN + 'AFTER = ("a_to_gold",)\n')
    with pytest.raises(DefinitionError, match=r"cycle \((a|b)_to_gold -> (a|b)_to_gold -> "):
        discover_transforms(project.src, project.name)


def test_a_transform_without_run_is_refused(make_project) -> None:
    project = make_project()
    project.write("transforms/bronze/x_to_bronze.py", "VALUE = 1\n")
    with pytest.raises(DefinitionError, match=r"x_to_bronze.py must define run\(spark, cfg\)"):
        discover_transforms(project.src, project.name)


def test_unknown_transform_and_layer_names_suggest_the_right_one() -> None:
    transforms = discover_transforms(SRC_PATH, "demo")
    with pytest.raises(
        PipelineError, match=r"Unknown transform 'trade_to_silvr'\. Did you mean 'trade_to_silver'"
    ):
        select_transforms(transforms, names=["trade_to_silvr"])
    with pytest.raises(PipelineError, match=r"Unknown layer 'platinum'\. Layers: bronze"):
        select_transforms(transforms, layers=["platinum"])
    gold = select_transforms(transforms, layers=["gold"])
    assert {t.layer for t in gold} == {"gold"} and gold[0].name == "bar_to_gold"

"""The transform catalogue: declarations, names, inputs, order, and one-module loads."""

from __future__ import annotations

import sys

import pytest

from src._base.pipeline.catalogue import load_catalogue, load_transform, output_contract
from src.config import SRC_PATH
from src.utils.errors import DefinitionError, PipelineError


def gold(*inputs: str) -> str:
    """A gold declaration with these inputs."""
    return (
        "from src._base.pipeline.shapes import GoldSnapshot, Read\n"
        f"TRANSFORM = GoldSnapshot(inputs={inputs!r}, reads={{'x': Read('gold.x')}},\n"
        "    steps={'s': 'SELECT 1'}, target='gold.t', keys=('business_date',))\n"
    )


BRONZE = (
    "from src._base.pipeline.shapes import BronzeAppend, SourceTable\n"
    "TRANSFORM = BronzeAppend(source=SourceTable('ops.x'), landed='SELECT 1',\n"
    "    target='bronze.br_x')\n"
)


def test_the_demo_catalogue_runs_layer_by_layer_in_dependency_order() -> None:
    catalogue = load_catalogue(SRC_PATH, "demo")
    layers = [entry.layer for entry in catalogue.entries]
    assert layers == sorted(layers, key=("bronze", "silver", "gold").index)
    order = catalogue.names()
    assert order.index("instrument_to_silver") < order.index("trade_to_silver")
    assert order.index("portfolio_to_silver") < order.index("trade_to_silver")
    assert order.index("bar_to_gold") < order.index("position_to_gold")
    [trade] = catalogue.select(names=["trade_to_silver"])
    assert catalogue.after(trade) == ("instrument_to_silver", "portfolio_to_silver")
    assert trade.inputs[0] == "trade_to_bronze"  # other layers: required, not ordering
    assert "silver.trade_status_hist" in trade.outputs


def test_reading_the_catalogue_imports_neither_spark_nor_airflow() -> None:
    import subprocess

    code = (
        "import sys\nfrom src._base.pipeline.catalogue import load_catalogue\n"
        "from src.config import SRC_PATH\nload_catalogue(SRC_PATH, 'demo')\n"
        "print(sorted(m for m in ('pyspark', 'airflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_problem_is_reported_at_once(make_project) -> None:
    project = make_project()
    project.write("transforms/silver/trades_silver.py", BRONZE)
    project.write("transforms/gold/trade_to_silver.py", gold())
    project.write("transforms/bronze/x_to_bronze.py", "VALUE = 1\n")
    project.write("transforms/silver/y_to_silver.py", gold())
    project.write("transforms/gold/a_to_gold.py", gold("x_to_bronz"))
    with pytest.raises(DefinitionError) as error:
        load_catalogue(project.src, project.name)
    message = str(error.value)
    assert message.startswith(
        f"The bronze/silver/gold transforms of '{project.name}' have 5 problem(s):"
    )
    assert "trades_silver.py: a silver transform is named <source>_to_silver.py" in message
    assert "trade_to_silver.py: a gold transform is named <source>_to_gold.py" in message
    assert "x_to_bronze.py must define TRANSFORM = one of BronzeAppend, " in message
    assert (
        "y_to_silver.py: TRANSFORM is a gold shape (GoldSnapshot) in the silver folder" in message
    )
    assert "a_to_gold.py: input: Unknown transform 'x_to_bronz'. Known: a_to_gold." in message


def test_inputs_only_point_to_the_same_or_an_earlier_layer(make_project) -> None:
    project = make_project()
    project.write("transforms/bronze/x_to_bronze.py", BRONZE)
    project.write("transforms/gold/a_to_gold.py", gold("x_to_bronze"))
    project.write(
        "transforms/silver/b_to_silver.py",
        "from src._base.pipeline.shapes import Custom\n"
        "TRANSFORM = Custom(layer='silver', inputs=('a_to_gold',), outputs=('silver.b',),\n"
        "    run_function=print)\n",
    )
    with pytest.raises(DefinitionError, match=r"b_to_silver.py: input 'a_to_gold' is a later"):
        load_catalogue(project.src, project.name)


def test_a_dependency_cycle_is_named(make_project) -> None:
    project = make_project()
    project.write("transforms/gold/a_to_gold.py", gold("b_to_gold"))
    project.write("transforms/gold/b_to_gold.py", gold("a_to_gold"))
    with pytest.raises(DefinitionError, match=r"cycle \((a|b)_to_gold -> (a|b)_to_gold -> "):
        load_catalogue(project.src, project.name)


def test_one_transform_loads_without_its_broken_neighbours(make_project) -> None:
    project = make_project()
    project.write("transforms/bronze/x_to_bronze.py", BRONZE)
    project.write("transforms/gold/a_to_gold.py", "import nothing_here\n")
    entry = load_transform(project.src, project.name, "bronze", "x_to_bronze")
    assert (entry.name, entry.layer, entry.outputs) == ("x_to_bronze", "bronze", ("bronze.br_x",))
    with pytest.raises(PipelineError, match=r"Unknown bronze transform 'x_to_bronz'\. Did you"):
        load_transform(project.src, project.name, "bronze", "x_to_bronz")
    with pytest.raises(DefinitionError, match=r"a_to_gold.py line 1: ModuleNotFoundError"):
        load_transform(project.src, project.name, "gold", "a_to_gold")


def test_unknown_transform_and_layer_names_suggest_the_right_one() -> None:
    catalogue = load_catalogue(SRC_PATH, "demo")
    with pytest.raises(
        PipelineError, match=r"Unknown transform 'trade_to_silvr'\. Did you mean 'trade_to_silver'"
    ):
        catalogue.select(names=["trade_to_silvr"])
    with pytest.raises(PipelineError, match=r"Unknown layer 'platinum'\. Layers: bronze"):
        catalogue.select(layers=["platinum"])
    gold_layer = catalogue.select(layers=["gold"])
    assert {t.layer for t in gold_layer} == {"gold"} and gold_layer[0].name == "bar_to_gold"


def test_outputs_are_tables_of_the_project_and_their_columns_are_the_contract(
    make_project,
) -> None:
    contract = output_contract(SRC_PATH, "demo", "gold.daily_bar_hist")
    assert contract["vwap"] == "NUMERIC(18, 6)" and contract["business_date"] == "DATE"
    project = make_project()
    project.write("transforms/gold/a_to_gold.py", gold().replace("gold.t'", "gold.nope'"))
    with pytest.raises(DefinitionError, match=r"a_to_gold.py: output: Unknown table of "
                       rf"{project.name} 'gold.nope'"):  # fmt: skip
        load_catalogue(project.src, project.name)


def test_a_gold_target_must_be_temporal_and_keyed_as_declared(make_project) -> None:
    project = make_project()
    project.write("transforms/gold/a_to_gold.py", gold().replace("gold.t'", "silver.entity0000'"))
    with pytest.raises(DefinitionError, match=r"a_to_gold.py: target silver.entity0000 must be "
                       r"a temporal table \(TemporalTableBase\) whose business key is "
                       r"keys=\('business_date',\)"):  # fmt: skip
        load_catalogue(project.src, project.name)


def test_a_bronze_load_reads_a_declared_source_by_name(make_project) -> None:
    project = make_project()
    project.write(
        f"{project.name}.py",
        "from src._base.build.project import DatabaseProject\n"
        "from src._base.sources.declared import PostgresSource\n"
        f"DATABASE = DatabaseProject(name={project.name!r}, sources=(PostgresSource('erp'),\n"
        "    PostgresSource('crm')))\n",
    )
    project.write("tables/bronze/br_x.py", "")  # no table needed: the source check comes first
    project.write(
        "transforms/bronze/x_to_bronze.py", BRONZE.replace("'ops.x'", "'ops.x', source='ecp'")
    )
    project.write("transforms/bronze/y_to_bronze.py", BRONZE)
    with pytest.raises(DefinitionError) as error:
        load_catalogue(project.src, project.name)
    message = str(error.value)
    assert (
        "x_to_bronze.py: source: Unknown postgres source 'ecp'. Did you mean 'erp'? Known: crm, "
        "erp. Declare it in sources= of the project's DATABASE, or correct the name."
    ) in message
    assert (
        "y_to_bronze.py: the project declares 2 postgres sources (crm, erp): name the one this "
        "transform reads (source=...)."
    ) in message

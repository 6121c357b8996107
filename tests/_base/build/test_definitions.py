"""Projects with their own metadata, and definition errors reported before any DDL."""

from __future__ import annotations

import sys

import pytest

from scripts import orchestrate_build
from src._base.build.discovery import load_project
from src.utils.connections import connect_raw
from tests.conftest import Project

pytestmark = pytest.mark.postgres

TRANSACTIONAL = (
    "import uuid\nfrom sqlmodel import Field\n"
    "from src._base.tables.table_type_mixins import TransactionalTableBase\n\n"
)


def quarantine(columns: str) -> str:
    return TRANSACTIONAL + (
        "class Quarantine(TransactionalTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'silver'}\n" + columns
    )


def columns_of(pg_server, database: str, table: str) -> list[str]:
    conn = connect_raw(pg_server, database)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' "
                "|| table_name = %s ORDER BY ordinal_position",
                (table,),
            )
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def database_exists(pg_server, name: str) -> bool:
    conn = connect_raw(pg_server)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cur.fetchone() is not None
    finally:
        conn.close()


def forget_modules(project: Project) -> None:
    prefix = f"{project.package}.{project.name}"
    for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        del sys.modules[name]


@pytest.fixture
def two(make_project) -> tuple[Project, Project]:
    """Two projects in one source folder, both declaring silver.quarantine (differently)."""
    first: Project = make_project(reference=1, transactional=2, temporal=1)
    second: Project = make_project(beside=first, reference=1, transactional=2, temporal=1)
    first.write("tables/silver/quarantine.py", quarantine("    reason: str\n"))
    second.write("tables/silver/quarantine.py", quarantine("    detail: str\n    rule: str\n"))
    return first, second


@pytest.mark.parametrize("imported_first", [0, 1])
def test_two_projects_declaring_the_same_tables_build_together_in_any_order(
    two, pg_server, imported_first, capsys
) -> None:
    first, second = two
    # import one project before the build does: the order must not matter
    load_project(two[imported_first].src, two[imported_first].folder)
    assert orchestrate_build.main(["postgres", "all"]) == 0
    assert columns_of(pg_server, first.name, "silver.quarantine")[1:3] == [
        "reason",
        "effective_time",
    ]
    assert columns_of(pg_server, second.name, "silver.quarantine")[1:3] == ["detail", "rule"]
    # importing again (a fresh import of every module) changes nothing
    for project in two:
        forget_modules(project)
    capsys.readouterr()
    assert orchestrate_build.main(["postgres", ""]) == 0
    out = capsys.readouterr().out
    assert "Build SUCCESS" in out and " 0 created" not in out
    assert columns_of(pg_server, second.name, "silver.quarantine")[1:3] == ["detail", "rule"]


def test_a_foreign_key_into_another_project_names_both_files(two, pg_server, caplog) -> None:
    first, second = two
    second.write(
        "tables/silver/only_here.py",
        TRANSACTIONAL + "class OnlyHere(TransactionalTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'silver'}\n    name: str\n",
    )
    first.write(
        "tables/silver/pointer.py",
        TRANSACTIONAL + "class Pointer(TransactionalTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'silver'}\n"
        "    only_here_id: uuid.UUID = Field(foreign_key='silver.only_here.only_here_id')\n",
    )
    assert orchestrate_build.main(["postgres", first.name]) == 1
    assert (
        f"{first.folder}/tables/silver/pointer.py: Pointer (table silver.pointer): foreign key "
        "only_here_id -> silver.only_here.only_here_id points into another project: "
        f"silver.only_here is declared by {second.folder}/tables/silver/only_here.py: OnlyHere"
    ) in caplog.text
    assert "a foreign key stays within its project" in caplog.text
    assert "Traceback" not in caplog.text
    assert not database_exists(pg_server, first.name)  # nothing was made


def test_unknown_foreign_key_targets_and_columns_are_reported_with_a_fix(
    make_project, pg_server, caplog
) -> None:
    project: Project = make_project(reference=1, transactional=1, temporal=0)
    project.write(
        "tables/silver/order_line.py",
        TRANSACTIONAL + "class OrderLine(TransactionalTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'silver'}\n"
        "    entity_id: uuid.UUID = Field(foreign_key='silver.entity0000.entity_id')\n"
        "    thing_id: uuid.UUID = Field(foreign_key='silver.entity0001.entity0001_id')\n",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 1
    line = f"{project.folder}/tables/silver/order_line.py: OrderLine (table silver.order_line)"
    assert (
        f"{line}: foreign key entity_id -> silver.entity0000.entity_id: table silver.entity0000"
        " has no column 'entity_id' (it has entity0000_id, label, amount"
    ) in caplog.text
    assert "Fix: point it at silver.entity0000.entity0000_id." in caplog.text
    assert (
        f"{line}: foreign key thing_id -> silver.entity0001.entity0001_id: this project "
        "declares no table silver.entity0001. Fix: did you mean silver.entity0000?"
    ) in caplog.text
    assert "NoReferenced" not in caplog.text
    assert not database_exists(pg_server, project.name)


def test_a_naming_error_is_reported_before_any_ddl(make_project, pg_server, caplog) -> None:
    project: Project = make_project(reference=1, transactional=1, temporal=0)
    project.write(
        "tables/silver/store.py",
        "from sqlmodel import Field\n"
        "from src._base.tables.table_type_mixins import TemporalTableBase\n\n"
        "class Store(TemporalTableBase, table=True):\n"
        "    __table_args__ = {'schema': 'silver'}\n"
        "    store_code: str = Field(primary_key=True)\n",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert (
        f"{project.folder}/tables/silver/store.py: Store (table silver.store): a temporal "
        "table's name must end in '_hist'"
    ) in caplog.text
    assert "is not a view" not in caplog.text
    assert "tables skipped after the failure above" in caplog.text
    assert not database_exists(pg_server, project.name)


def test_bad_reference_rows_are_reported_with_the_data_file(
    make_project, pg_server, caplog
) -> None:
    project: Project = make_project(reference=1, transactional=0, temporal=1)
    module = f"{project.package}.{project.name}.tables"
    data = project.write(
        "data/common.py",
        f"from {module}.common.kind0000_type import Kind0000Type\n"
        f"from {module}.silver.thing0000_hist import Thing0000Hist\n"
        "REFERENCE_DATA = {Kind0000Type: [\n"
        "  {'kind0000_type_id': 1, 'code': 'GOOD'},\n"
        "  {'kind0000_type_id': 'three', 'code': 'C'},\n"
        "  {'kind0000_type_id': 4, 'code': 'D', 'colour': 'red'},\n"
        "], Thing0000Hist: [{'thing_code': 'x', 'name': 'y'}]}\n",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert (
        f"{data}: row 2 for common.kind0000_type (kind0000_type_id='three'): field "
        "'kind0000_type_id': Input should be a valid integer"
    ) in caplog.text
    assert (
        f"{data}: row 3 for common.kind0000_type (kind0000_type_id=4): unknown column(s) colour"
    ) in caplog.text
    assert (
        f"(the table's class is {project.folder}/tables/common/kind0000_type.py: Kind0000Type)"
        in caplog.text
    )
    assert f"{data}: silver.thing0000_hist (" in caplog.text and "is temporal" in caplog.text
    assert not database_exists(pg_server, project.name)


def test_a_table_declared_twice_in_one_project_names_both_files(make_project, caplog) -> None:
    project: Project = make_project(reference=1, transactional=0, temporal=0)
    project.write("tables/silver/quarantine.py", quarantine("    reason: str\n"))
    project.write(
        "tables/silver/quarantine_again.py",
        quarantine("    detail: str\n").replace("class Quarantine(", "class QuarantineAgain(")
        + "    __tablename__ = 'quarantine'\n",
    )
    assert orchestrate_build.main(["postgres", project.name]) == 1
    assert (
        f"Table silver.quarantine is declared twice in project {project.package}."
        f"{project.name}: by {project.folder}/tables/silver/quarantine.py (Quarantine) and by "
        f"module {project.package}.{project.name}.tables.silver.quarantine_again "
        "(QuarantineAgain)"
    ) in caplog.text

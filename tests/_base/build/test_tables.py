from __future__ import annotations

import uuid

import pytest
from sqlmodel import Field

from src._base.build.tables import table_order
from src._base.tables.table_type_mixins import ReferenceTableBase, TransactionalTableBase
from src.utils.errors import ConfigError, DefinitionError


def test_referenced_tables_come_first_across_schemas() -> None:
    class SideType(ReferenceTableBase, table=True):
        __table_args__ = {"schema": "common"}

    class Order(TransactionalTableBase, table=True):
        __table_args__ = {"schema": "silver"}
        side_type_id: int = Field(foreign_key="common.side_type.side_type_id")

    class Fill(TransactionalTableBase, table=True):
        __table_args__ = {"schema": "gold"}
        order_id: uuid.UUID = Field(foreign_key="silver.order.order_id")

    order = [m.__name__ for m in table_order([Fill, Order, SideType])]
    assert order == ["SideType", "Order", "Fill"]


def test_self_reference_is_not_a_cycle() -> None:
    class Node(TransactionalTableBase, table=True):
        parent_id: uuid.UUID | None = Field(default=None, foreign_key="node.node_id")

    assert table_order([Node]) == [Node]


def test_cycle_names_every_table_in_it() -> None:
    class Alpha(TransactionalTableBase, table=True):
        beta_id: uuid.UUID = Field(foreign_key="beta.beta_id")

    class Beta(TransactionalTableBase, table=True):
        alpha_id: uuid.UUID = Field(foreign_key="alpha.alpha_id")

    with pytest.raises(DefinitionError, match=r"cycle: (alpha|beta) -> (alpha|beta) -> "):
        table_order([Alpha, Beta])


@pytest.mark.postgres
def test_library_entry_points_build_one_or_all_projects(make_project, pg_server) -> None:
    from src._base.build.databases import create_database
    from src._base.build.discovery import load_projects
    from src._base.build.schemas import create_schemas
    from src._base.build.tables import (
        create_tables_for_all_databases,
        create_tables_for_database,
    )
    from src.utils.connections import create_db_engine

    project = make_project(reference=1, transactional=2, temporal=1)
    [loaded] = load_projects(project.src, project.name)
    create_database(pg_server, loaded)
    engine = create_db_engine(pg_server, project.name)
    try:
        create_schemas(engine, loaded)
        first = create_tables_for_database(engine, project.src, project.name)
    finally:
        engine.dispose()
    assert len(first.created) == 4 and first.ok
    [again] = create_tables_for_all_databases(
        "postgres", pg_server.user, pg_server.host, pg_server.port, project.src,
        password=pg_server.password,
    )  # fmt: skip
    assert again.created == [] and len(again.present) == 4
    with pytest.raises(ConfigError, match="Unknown engine_type 'oracle'"):
        create_tables_for_all_databases("oracle", "u", "h", 1, project.src)

"""Autogenerate's output for a fixed set of model changes, pinned (golden files), and
what it does when applied; the hand-written helpers for renames and backfills.

Regenerate after an intended change with ``make test PYTEST_ARGS="--update-golden"`` and
review the diff of ``tests/_base/migrations/golden/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._base.migrations.conftest import T1, T3, TEMPORAL, Migrating

pytestmark = pytest.mark.postgres

GOLDEN = Path(__file__).parent / "golden"

NEW_TEMPORAL = """from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class Gadget0000Hist(TemporalTableBase, table=True):
    __table_args__ = {"schema": "silver"}
    gadget_code: str = Field(primary_key=True, max_length=32)
    colour: str
"""


def _body(revision: Path) -> str:
    """The revision from ``def upgrade`` on (its id and date differ every time)."""
    text = revision.read_text()
    return text[text.index("def upgrade") :]


def _golden(name: str, text: str, request: pytest.FixtureRequest) -> None:
    golden = GOLDEN / name
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"{golden} missing: run pytest --update-golden"
    assert text == golden.read_text(), f"{name} changed; see {golden}"


def test_one_change_of_every_kind(migrating: Migrating, request) -> None:
    m = migrating
    m.edit("tables/common/kind0000_type.py", "    description: str | None = None\n",
           "    description: str | None = None\n    note: str | None = None\n")  # fmt: skip
    m.edit("tables/silver/entity0000.py", "    amount: float | None = None\n",
           "    amount: float | None = None\n"
           "    status: str | None = Field(default=None, max_length=8, index=True)\n")  # fmt: skip
    m.edit(TEMPORAL, "    name: str\n", "    name: str\n    isin: str | None = None\n")
    decimal = "    value: Decimal | None = Field(default=None, max_digits=18, decimal_places=6)\n"
    m.edit(TEMPORAL, "    value: float | None = None\n", decimal)
    m.edit(TEMPORAL, "from sqlmodel import Field\n",
           "from decimal import Decimal\n\nfrom sqlmodel import Field\n")  # fmt: skip
    m.project.write("tables/silver/gadget0000_hist.py", NEW_TEMPORAL)
    m.migrate("revision", "--autogenerate", "-m", "one of each")
    [revision] = m.revisions()
    _golden("one_of_each.py.txt", _body(revision), request)

    m.migrate("upgrade", "head")
    assert m.sql("SELECT value FROM silver.thing0000_hist WHERE thing_code = 'b'") == [
        (pytest.approx(2),)
    ]
    assert m.columns("silver.thing0000")[-2:] == ["isin", "sys_start"]
    # the new temporal table is versioned like one the build made
    m.sql("INSERT INTO silver.gadget0000_hist (gadget_code, colour) VALUES ('g', 'red')", at=T1)
    m.sql("UPDATE silver.gadget0000_hist SET colour = 'blue' WHERE gadget_code = 'g'", at=T3)
    assert m.sql("SELECT colour FROM silver.gadget0000__as_of(%s)", (T1,)) == [("red",)]
    assert m.sql("SELECT colour FROM silver.gadget0000") == [("blue",)]
    out = m.build().stdout
    assert "drift" not in out
    assert [line.split()[2] for line in out.splitlines() if line.startswith("tables")] == ["0"]
    m.migrate("downgrade", "-1")
    assert "gadget0000_hist" not in {
        t for (t,) in m.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'silver'")
    }
    assert "status" not in m.columns("silver.entity0000")
    m.migrate("upgrade", "head")


RENAME = '''"""rename name to label, backfill isin

Revision ID: {revision}
Revises: {down}
"""

from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_temporal_column("thing0000_hist", "name", "label", schema="silver",
                              keys=["thing_code"], columns=["thing_code", "label", "value", "isin"])
    op.backfill_history("thing0000_hist", "isin", "upper(thing_code) || '-' || label",
                        schema="silver")


def downgrade() -> None:
    op.rename_temporal_column("thing0000_hist", "label", "name", schema="silver")
'''


def test_a_rename_and_a_backfill_keep_every_version(migrating: Migrating, request) -> None:
    m = migrating
    m.edit(TEMPORAL, "    name: str\n", "    name: str\n    isin: str | None = None\n")
    m.migrate("revision", "--autogenerate", "-m", "add isin", "--rev-id", "0000000000a0")
    [first] = m.revisions()  # a fixed id: the golden SQL names it
    down = first.name.split("_")[0]
    m.edit(TEMPORAL, "    name: str\n", "    label: str\n")
    folder = first.parent
    (folder / "0000000000aa_rename.py").write_text(
        RENAME.format(revision="0000000000aa", down=down)
    )
    printed = m.migrate("upgrade", f"{down}:head", "--sql").stdout  # columns given: offline
    _golden("rename_offline.sql.txt", printed[printed.index("-- Running upgrade") :], request)
    before = m.sql("SELECT thing_code, name, sys_start, sys_end FROM silver.thing0000_hist"
                   " ORDER BY 1, 3")  # fmt: skip
    m.migrate("upgrade", "head")
    after = m.sql("SELECT thing_code, label, sys_start, sys_end, isin FROM silver.thing0000_hist"
                  " ORDER BY 1, 3")  # fmt: skip
    assert [row[:4] for row in after] == before  # same versions, renamed
    assert [row[4] for row in after] == ["A-A", "A-A2", "B-B"]  # every version backfilled
    assert "label" in m.columns("silver.thing0000")
    assert m.sql("SELECT label FROM silver.thing0000__as_of(%s) WHERE thing_code = 'a'", (T1,)) == [
        ("A",)
    ]
    m.sql("UPDATE silver.thing0000_hist SET label = 'A3' WHERE thing_code = 'a'"
          " AND sys_end = 'infinity'", at=T3)  # fmt: skip
    assert m.sql("SELECT count(*) FROM silver.thing0000_hist WHERE thing_code = 'a'") == [(3,)]
    assert "drift" not in m.build().stdout
    m.migrate("downgrade", "-1")
    assert "name" in m.columns("silver.thing0000") and "label" not in m.columns("silver.thing0000")

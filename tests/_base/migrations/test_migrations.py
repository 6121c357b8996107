"""Migrations on a real server, through scripts/migrate.py and alembic itself: a temporal
table changes shape without losing a version of its history."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from src._base.migrations.environment import MIGRATION_LOCK
from src._base.migrations.revisions import ENVIRONMENT
from src.config import PROJECT_ROOT
from src.utils.connections import connect_raw
from tests._base.migrations.conftest import T1, T3, TEMPORAL, Migrating

pytestmark = pytest.mark.postgres

HISTORY = ("SELECT thing_code, name, value, sys_start, sys_end FROM silver.thing0000_hist"
           " ORDER BY thing_code, sys_start")  # fmt: skip
ADD_ISIN = (
    "    name: str\n",
    "    name: str\n    isin: str | None = Field(default=None, max_length=12)\n",
)


def _add_isin(m: Migrating) -> str:
    m.edit(TEMPORAL, *ADD_ISIN)
    m.migrate("revision", "--autogenerate", "-m", "add isin")
    [revision] = m.revisions()
    return revision.read_text()


def test_a_column_added_to_a_temporal_table_keeps_history_and_is_versioned(
    migrating: Migrating, tmp_path
) -> None:
    m = migrating
    before = m.sql(HISTORY)
    text = _add_isin(m)
    assert "op.drop_current_view(" in text and "op.regenerate_versioning(" in text
    assert "columns=['thing_code', 'name', 'value', 'isin']" in text.replace('"', "'")
    m.migrate("upgrade", "head")
    assert m.sql(HISTORY) == before  # every version, untouched
    assert m.columns("silver.thing0000")[-2:] == ["isin", "sys_start"]  # the view shows it
    # the new column is versioned from now on
    m.sql("UPDATE silver.thing0000_hist SET isin = 'US0001' WHERE thing_code = 'a'"
          " AND sys_end = 'infinity'", at=T3)  # fmt: skip
    versions = m.sql("SELECT name, isin FROM silver.thing0000_hist WHERE thing_code = 'a'"
                     " ORDER BY sys_start")  # fmt: skip
    assert versions == [("A", None), ("A2", None), ("A2", "US0001")]
    as_of = "SELECT name, isin FROM silver.thing0000__as_of(%s) WHERE thing_code = 'a'"
    assert m.sql(as_of, (T1,)) == [("A", None)]  # from before the migration
    assert m.sql(as_of, (T3,)) == [("A2", "US0001")]
    # the build agrees: nothing to create, no drift, twice
    for _ in range(2):
        out = m.build().stdout
        assert "drift" not in out
        assert [line.split()[2] for line in out.splitlines() if line.startswith("tables")] == ["0"]
    # downgrade restores the previous shape, and versioning still works on it
    m.migrate("downgrade", "-1")
    assert "isin" not in m.columns("silver.thing0000_hist")
    assert "isin" not in m.columns("silver.thing0000")
    m.sql("UPDATE silver.thing0000_hist SET name = 'B2' WHERE thing_code = 'b'"
          " AND sys_end = 'infinity'", at=T3)  # fmt: skip
    assert m.sql("SELECT count(*) FROM silver.thing0000_hist WHERE thing_code = 'b'") == [(2,)]
    m.migrate("upgrade", "head")
    assert m.columns("silver.thing0000_hist")[-1] == "isin"
    # alembic itself, with an ini file for this project
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        f"[alembic]\nscript_location = {ENVIRONMENT}\npath_separator = os\nversion_locations = "
        f"{m.project.folder / 'migrations' / 'versions'}\nmedallion_project = {m.project.name}\n"
    )
    alembic = str(PROJECT_ROOT / ".venv" / "bin" / "alembic")
    current = m.run([alembic, "-c", str(ini), "current"]).stdout
    assert m.revisions()[0].name.split("_")[0] in current and "(head)" in current
    assert "add isin" in m.run([alembic, "-c", str(ini), "history"]).stdout
    m.run([alembic, "-c", str(ini), "downgrade", "-1"])
    m.run([alembic, "-c", str(ini), "upgrade", "head"])
    assert m.columns("silver.thing0000_hist")[-1] == "isin"


def test_the_view_keeps_its_grants(migrating: Migrating) -> None:
    m = migrating
    grants = "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = "
    grants += "'silver' AND table_name = 'thing0000' AND privilege_type = 'SELECT' ORDER BY 1"
    before = m.sql(grants)
    assert (f"{m.project.name}_api",) in before  # the API's role, granted by the build
    _add_isin(m)
    m.migrate("upgrade", "head")
    assert m.sql(grants) == before


def test_dropping_a_temporal_column_is_refused_unless_allowed(migrating: Migrating) -> None:
    m = migrating
    m.edit(TEMPORAL, "    value: float | None = None\n", "")
    refused = m.migrate("revision", "--autogenerate", "-m", "drop value", ok=False)
    assert refused.returncode == 1
    assert "Dropping the temporal column silver.thing0000_hist.value" in refused.stderr
    assert "-x allow_history_loss=silver.thing0000_hist.value" in refused.stderr
    assert m.revisions() == []
    m.migrate("-x", "allow_history_loss=silver.thing0000_hist.value", "revision",
              "--autogenerate", "-m", "drop value")  # fmt: skip
    [revision] = m.revisions()
    assert "op.drop_column('thing0000_hist', 'value'" in revision.read_text().replace('"', "'")


def test_upgrade_sql_prints_the_whole_change_without_a_server(migrating: Migrating) -> None:
    m = migrating
    _add_isin(m)
    printed = m.migrate("upgrade", "head", "--sql", PGPORT="1").stdout
    assert "ALTER TABLE silver.thing0000_hist ADD COLUMN isin VARCHAR(12);" in printed
    assert 'DROP VIEW IF EXISTS "silver"."thing0000";' in printed
    assert "CREATE OR REPLACE FUNCTION" in printed and "CREATE OR REPLACE VIEW" in printed
    assert "INSERT INTO medallion.alembic_version" in printed or "UPDATE medallion" in printed


def test_a_second_upgrade_waits_for_the_first_and_applies_nothing_twice(
    migrating: Migrating,
) -> None:
    m = migrating
    _add_isin(m)
    holder = connect_raw(m.conn)
    holder.autocommit = True
    with holder.cursor() as cur:
        cur.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
    try:
        gave_up = m.migrate("upgrade", "head", ok=False, MEDALLION_MIGRATION_LOCK_WAIT="1")
        assert gave_up.returncode == 1
        assert "another migration of" in gave_up.stderr and "MEDALLION_MIGRATION_LOCK_WAIT" in (
            gave_up.stderr
        )
        assert "isin" not in m.columns("silver.thing0000_hist")
        script = str(PROJECT_ROOT / "scripts" / "migrate.py")
        waiting = subprocess.Popen(
            [sys.executable, script, m.project.name, "upgrade", "head"], env=m.env,
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the lock
    finally:
        with holder.cursor() as cur:
            cur.execute(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
        holder.close()
    assert waiting.wait(timeout=60) == 0, waiting.stderr.read()
    assert m.migrate("upgrade", "head").returncode == 0  # already there: nothing to do
    assert m.columns("silver.thing0000_hist").count("isin") == 1
    assert m.sql("SELECT count(*) FROM medallion.alembic_version") == [(1,)]


def test_a_database_of_another_project_is_refused(migrating: Migrating) -> None:
    m = migrating
    _add_isin(m)
    m.sql("UPDATE medallion.project SET name = 'other'")
    refused = m.migrate("upgrade", "head", ok=False)
    assert refused.returncode == 1 and "holds project 'other'" in refused.stderr
    assert m.project.name in refused.stderr
    assert m.build(ok=False).returncode == 1  # nor will the build touch it
    m.sql("DROP TABLE medallion.project")
    refused = m.migrate("upgrade", "head", ok=False)
    assert "was not built for project" in refused.stderr
    assert "isin" not in m.columns("silver.thing0000_hist")


def test_a_failed_revision_leaves_the_previous_one(migrating: Migrating) -> None:
    m = migrating
    _add_isin(m)
    m.migrate("upgrade", "head")
    [first] = m.revisions()
    m.edit(TEMPORAL, "    value: float | None = None\n", "    value: float | None = None\n"
           "    rating: int | None = None\n")  # fmt: skip
    m.migrate("revision", "--autogenerate", "-m", "add rating")
    [second] = [r for r in m.revisions() if r != first]
    text = second.read_text()
    broken = text.replace("    # ### end Alembic commands ###", "    op.execute('SELECT 1/0')\n"
                          "    # ### end Alembic commands ###", 1)  # fmt: skip
    second.write_text(broken)
    failed = m.migrate("upgrade", "head", ok=False)
    assert failed.returncode == 1 and "division by zero" in failed.stderr
    assert "rating" not in m.columns("silver.thing0000_hist")
    assert m.columns("silver.thing0000")[-2:] == ["isin", "sys_start"]  # view intact
    [(version,)] = m.sql("SELECT version_num FROM medallion.alembic_version")
    assert first.name.startswith(version)
    second.write_text(text)
    m.migrate("upgrade", "head")
    assert "rating" in m.columns("silver.thing0000")


def test_a_new_database_is_built_at_the_head_revision(migrating: Migrating) -> None:
    m = migrating
    _add_isin(m)
    [revision] = m.revisions()
    head = revision.name.split("_")[0]
    script = str(PROJECT_ROOT / "scripts" / "orchestrate_build.py")
    m.run([sys.executable, script, "postgres", m.project.name, "--rebuild"])
    assert m.sql("SELECT version_num FROM medallion.alembic_version") == [(head,)]
    assert "isin" in m.columns("silver.thing0000_hist")  # made from the classes
    assert "(head)" in m.migrate("current").stdout
    assert "Running upgrade" not in m.migrate("upgrade", "head").stderr  # nothing to apply
    # a database that existed before the revision is not stamped by a build
    m.sql("DROP TABLE medallion.alembic_version")
    m.build()
    assert m.sql("SELECT to_regclass('medallion.alembic_version')") == [(None,)]


def test_the_repository_s_alembic_ini_serves_the_demo_as_written(tmp_path) -> None:
    """``alembic history`` and ``alembic upgrade head --sql`` from the repository root, as
    a user types them (neither needs a server)."""
    alembic = str(PROJECT_ROOT / ".venv" / "bin" / "alembic")
    for command in (["history"], ["upgrade", "head", "--sql"]):
        done = subprocess.run([alembic, *command], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr


PARTITIONED = (
    '    __table_args__ = {"schema": "silver"}\n',
    '    __table_args__ = {"schema": "silver"}\n    __history_layout__ = "partitioned"\n',
)
RELKIND = "SELECT relkind::text FROM pg_class WHERE oid = 'silver.thing0000_hist'::regclass"
GRANTED = (
    "SELECT table_name, grantee FROM information_schema.role_table_grants WHERE table_schema "
    "= 'silver' AND table_name IN ('thing0000', 'thing0000_hist') AND privilege_type = 'SELECT'"
    " ORDER BY 1, 2"
)


def test_a_table_converted_to_the_partitioned_layout_keeps_every_version_and_grant(
    migrating: Migrating,
) -> None:
    m = migrating
    before, grants = m.sql(HISTORY), m.sql(GRANTED)
    assert ("thing0000_hist", f"{m.project.name}_api") in grants
    m.edit(TEMPORAL, *PARTITIONED)
    refused = m.build(ok=False)
    assert refused.returncode == 1
    assert "stored in the single layout, the class asks for the partitioned one" in (
        refused.stdout + refused.stderr
    )
    m.migrate("revision", "--autogenerate", "-m", "partition the history")
    [revision] = m.revisions()
    text = " ".join(revision.read_text().replace('"', "'").split())
    upgrade, downgrade = text.split("def downgrade")
    assert "op.convert_history_layout( 'thing0000_hist', schema='silver', layout='partitioned'" in (
        upgrade
    )
    assert "layout='single'" in downgrade
    m.migrate("upgrade", "head")
    assert m.sql(RELKIND) == [("p",)]
    assert m.sql(HISTORY) == before  # every version, untouched
    assert m.sql(GRANTED) == grants
    assert m.sql("SELECT count(*) FROM silver.thing0000_hist_closed") == [(1,)]
    assert m.sql("SELECT count(*) FROM silver.thing0000_hist_current") == [(2,)]
    # versioning works on the new layout, and as-of reads from before the conversion too
    m.sql("UPDATE silver.thing0000 SET name = 'A3' WHERE thing_code = 'a'", at=T3)
    names = "SELECT name FROM silver.thing0000_hist WHERE thing_code = 'a' ORDER BY sys_start"
    assert m.sql(names) == [("A",), ("A2",), ("A3",)]
    assert m.sql("SELECT name FROM silver.thing0000__as_of(%s) WHERE thing_code = 'a'",
                 (T1,)) == [("A",)]  # fmt: skip
    out = m.build().stdout  # the build agrees: no drift, nothing to create
    assert "drift" not in out
    assert [line.split()[2] for line in out.splitlines() if line.startswith("tables")] == ["0"]
    after = m.sql(HISTORY)
    m.migrate("downgrade", "-1")  # back to one heap, every version kept
    assert m.sql(RELKIND) == [("r",)]
    assert m.sql(HISTORY) == after and m.sql(GRANTED) == grants
    m.sql("UPDATE silver.thing0000 SET name = 'A4' WHERE thing_code = 'a'")
    assert m.sql(names)[-2:] == [("A3",), ("A4",)]


NEW_PARTITIONED = """from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class LimitHist(TemporalTableBase, table=True):
    __table_args__ = {"schema": "silver"}
    __history_layout__ = "partitioned"
    limit_code: str = Field(primary_key=True, max_length=32)
    amount: float
"""


def test_a_new_partitioned_table_is_created_with_its_partitions(migrating: Migrating) -> None:
    m = migrating
    m.project.write("tables/silver/limit_hist.py", NEW_PARTITIONED)
    m.migrate("revision", "--autogenerate", "-m", "limits")
    [revision] = m.revisions()
    text = " ".join(revision.read_text().replace('"', "'").split())
    assert "postgresql_partition_by='RANGE (sys_end)'" in text
    assert "op.create_versioning( 'limit_hist', schema='silver'" in text
    assert "key_column='sys_end', partitioned=True" in text
    m.migrate("upgrade", "head")
    m.sql("INSERT INTO silver.limit (limit_code, amount) VALUES ('x', 1)", at=T1)
    m.sql("UPDATE silver.limit SET amount = 2 WHERE limit_code = 'x'", at=T3)
    assert m.sql("SELECT count(*) FROM silver.limit_hist_closed") == [(1,)]
    assert m.sql("SELECT amount FROM silver.limit__as_of(%s)", (T1,)) == [(1.0,)]
    out = m.build().stdout
    assert "drift" not in out
    assert [line.split()[2] for line in out.splitlines() if line.startswith("tables")] == ["0"]


def test_a_migration_changes_every_tenants_copy_of_the_table(
    make_project, use_test_server, tmp_path
) -> None:
    import os

    project = make_project(reference=1, transactional=1, temporal=1)
    project.write(
        f"{project.name}.py",
        "from src._base.build.project import DatabaseProject\n"
        f"DATABASE = DatabaseProject(name={project.name!r}, tenants=('acme', 'globex'))\n",
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MEDALLION_SRC_PATH": str(project.src)}
    m = Migrating(project, use_test_server, env)
    m.build()
    m.sql("INSERT INTO tenant_acme_silver.thing0000_hist (thing_code, name) VALUES ('a', 'A')",
          at=T1)  # fmt: skip
    text = _add_isin(m)
    assert "tenant_acme_silver" in text and "tenant_globex_silver" in text
    m.migrate("upgrade", "head")
    for schema in ("silver", "tenant_acme_silver", "tenant_globex_silver"):
        assert m.columns(f"{schema}.thing0000_hist")[-1] == "isin", schema
        assert "isin" in m.columns(f"{schema}.thing0000"), schema  # the view shows it
    m.sql("UPDATE tenant_acme_silver.thing0000_hist SET isin = 'US1' WHERE thing_code = 'a'",
          at=T3)  # fmt: skip
    assert m.sql("SELECT isin FROM tenant_acme_silver.thing0000_hist ORDER BY sys_start") == [
        (None,),
        ("US1",),
    ]
    out = m.build().stdout
    assert "drift" not in out and "Build SUCCESS" in out

"""Benchmark: adding a column to a 1M-row temporal table through a migration.

    uv run python bench/bench_migrations.py [--rows 1000000] [--repeat 3]

A synthetic project with one temporal table is built, then loaded with ``--rows`` rows:
every key once, and 10% of keys versioned twice more (so about 83% of the rows are
current). Each case applies one revision through Alembic (``command.upgrade``, as
``scripts/migrate.py <db> upgrade head`` does) and is then downgraded, ``--repeat``
times; the median is reported. Baseline: the same column added by a plain ``ALTER
TABLE`` to a table of the same rows without versioning, in the same run.

- nullable column: ``add_column`` wrapped in ``drop_current_view`` /
  ``regenerate_versioning``, what autogenerate writes;
- constant default: the same with ``server_default`` (PostgreSQL stores the default
  once, no rewrite);
- per-row backfill: a nullable column, then ``backfill_history`` setting every version
  from an expression (an UPDATE of every row, in the same revision).

For each: whether the table was rewritten (its relfilenode changed), how long the
revision held the table's ACCESS EXCLUSIVE lock (the whole revision: its transaction),
and that no version was lost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alembic import command

from bench.synthetic_project import write_project
from src._base.build.discovery import load_projects
from src._base.build.steps import build_in_database
from src._base.migrations.revisions import alembic_config, versions_folder
from src.config import ConnectionSettings, load_settings
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import server_for

PROJECT, PACKAGE = "bench_migrate", "bench_synth"
TABLE = "silver.thing0000_hist"

REVISION = '''"""{name}"""
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = None
branch_labels = None
depends_on = None
COLUMNS = ["thing_code", "name", "value", "extra"]


def upgrade() -> None:
    op.drop_current_view("thing0000_hist", schema="silver")
    op.add_column("thing0000_hist", sa.Column("extra", sa.Text(){default}), schema="silver")
    op.regenerate_versioning("thing0000_hist", schema="silver", keys=["thing_code"],
                             columns=COLUMNS)
{backfill}

def downgrade() -> None:
    op.drop_current_view("thing0000_hist", schema="silver")
    op.drop_column("thing0000_hist", "extra", schema="silver")
    op.regenerate_versioning("thing0000_hist", schema="silver", keys=["thing_code"],
                             columns=COLUMNS[:-1])
'''
CASES = {
    "nullable column": ("", ""),
    "constant default": (", server_default='n/a'", ""),
    "per-row backfill": (
        "",
        '    op.backfill_history("thing0000_hist", "extra", "upper(thing_code) || name",'
        ' schema="silver")\n',
    ),
}
BASELINE = {
    "nullable column": ["ALTER TABLE plain ADD COLUMN extra text"],
    "constant default": ["ALTER TABLE plain ADD COLUMN extra text DEFAULT 'n/a'"],
    "per-row backfill": [
        "ALTER TABLE plain ADD COLUMN extra text",
        "UPDATE plain SET extra = upper(thing_code) || name",
    ],
}


def load(conn: ConnectionSettings, rows: int) -> int:
    """Fill the temporal table and the plain one; the number of versions written."""
    keys = round(rows / 1.2)
    raw = connect_raw(conn)
    with raw.cursor() as cur:
        cur.execute("SET medallion.allow_history_rewrite = on")
        cur.execute(
            f"INSERT INTO {TABLE} (thing_code, name, value, sys_start, sys_end)"
            " SELECT 'K' || g, 'name ' || g, g, '2026-01-01', 'infinity'"
            " FROM generate_series(1, %s) g",
            (keys,),
        )
        for version, start in enumerate(("2026-02-01", "2026-03-01"), start=1):
            cur.execute(
                f"UPDATE {TABLE} SET sys_end = %s WHERE sys_end = 'infinity'"
                " AND right(thing_code, 1) = '7'",  # every tenth key
                (start,),
            )
            cur.execute(
                f"INSERT INTO {TABLE} (thing_code, name, value, sys_start, sys_end)"
                f" SELECT thing_code, name || ' v{version}', value, %s, 'infinity'"
                f" FROM {TABLE} WHERE sys_end = %s",
                (start, start),
            )
        cur.execute(f"CREATE TABLE plain AS SELECT * FROM {TABLE}")
        cur.execute("ALTER TABLE plain ADD PRIMARY KEY (thing_code, sys_start)")
        cur.execute(f"SELECT count(*) FROM {TABLE}")
        [(versions,)] = cur.fetchall()
    raw.commit()
    raw.close()
    execute_autocommit(conn, "VACUUM ANALYZE")
    return versions


def _relfilenode(conn: ConnectionSettings, table: str) -> int:
    raw = connect_raw(conn)
    with raw.cursor() as cur:
        cur.execute("SELECT pg_relation_filenode(%s::regclass)", (table,))
        [(node,)] = cur.fetchall()
    raw.close()
    return node


def run_case(config, conn: ConnectionSettings, folder: Path, case: str, n: int) -> tuple:
    default, backfill = CASES[case]
    revision = f"{n:012x}"
    script = folder / f"{revision}_case.py"
    text = REVISION.format(name=case, revision=revision, default=default, backfill=backfill)
    script.write_text(text)
    node = _relfilenode(conn, TABLE)
    execute_autocommit(conn, "CHECKPOINT")
    started = time.perf_counter()
    command.upgrade(config, "head")
    seconds = time.perf_counter() - started
    rewritten = _relfilenode(conn, TABLE) != node
    raw = connect_raw(conn)
    with raw.cursor() as cur:
        cur.execute(f"SELECT count(*), count(extra) FROM {TABLE}")
        [(versions, filled)] = cur.fetchall()
    raw.close()
    command.downgrade(config, "base")
    script.unlink()
    return seconds, rewritten, versions, filled


def run_baseline(conn: ConnectionSettings, case: str) -> float:
    execute_autocommit(conn, "CHECKPOINT")
    raw = connect_raw(conn)
    started = time.perf_counter()
    with raw.cursor() as cur:
        for statement in BASELINE[case]:
            cur.execute(statement)
    raw.commit()
    seconds = time.perf_counter() - started
    with raw.cursor() as cur:
        cur.execute("ALTER TABLE plain DROP COLUMN extra")
    raw.commit()
    raw.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)  # the project's, inside
    args = parser.parse_args(argv)
    if args.root is None:  # the synthetic project must be importable: run again beside it
        with tempfile.TemporaryDirectory() as folder:
            write_project(Path(folder), PACKAGE, PROJECT, reference=0, transactional=0,
                          temporal=1)  # fmt: skip
            path = os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")]))
            command_line = [sys.executable, __file__, *(argv or sys.argv[1:]), "--root", folder]
            return subprocess.run(command_line, env={**os.environ, "PYTHONPATH": path}).returncode
    settings = load_settings()
    src = args.root / PACKAGE
    with server_for(settings) as server:
        execute_autocommit(server, f"DROP DATABASE IF EXISTS {PROJECT} WITH (FORCE)")
        execute_autocommit(server, f"CREATE DATABASE {PROJECT}")
        conn = server.with_database(PROJECT)
        [project] = load_projects(src, PROJECT)
        assert all(r.ok for r in build_in_database(conn, src, PROJECT))
        versions = load(conn, args.rows)
        print(f"{TABLE}: {versions:,} versions loaded")
        versions_folder(project).mkdir(parents=True)
        config = alembic_config(project)
        config.attributes["settings"] = settings
        config.attributes["conn"] = conn
        print(f"\nAdding a column, median of {args.repeat}; baseline: the same ALTER on a plain"
              " table of the same rows\n")  # fmt: skip
        header = (f"{'case':<18} {'migration':>10} {'plain':>8} {'ratio':>6} {'rewrote':>8} "
                  f"{'lock held':>10} {'versions kept':>14}")  # fmt: skip
        print(header)
        print("-" * len(header))
        n = 0
        for case in CASES:
            runs, plain = [], []
            for _ in range(args.repeat):
                n += 1
                runs.append(run_case(config, conn, versions_folder(project), case, n))
                plain.append(run_baseline(conn, case))
            seconds = statistics.median(r[0] for r in runs)
            baseline = statistics.median(plain)
            rewrote = any(r[1] for r in runs)
            kept = all(r[2] == versions for r in runs)
            filled = {r[3] for r in runs}
            print(f"{case:<18} {seconds:>9.3f}s {baseline:>7.3f}s {seconds / baseline:>5.1f}x "
                  f"{'yes' if rewrote else 'no':>8} {seconds:>9.3f}s "
                  f"{'all' if kept else 'LOST':>8} ({max(filled):,} set)")  # fmt: skip
        execute_autocommit(server, f"DROP DATABASE IF EXISTS {PROJECT} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

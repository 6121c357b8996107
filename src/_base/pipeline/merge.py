"""Set-based SQL a load publishes with: temporal merges, partition replaces, quarantine.

The history triggers do the versioning; these statements only say *what* changed, and
skip unchanged rows up front so no trigger fires for them.
"""

from __future__ import annotations

from collections.abc import Sequence

CURRENT = "t.sys_end = 'infinity'"  # a current version of the table aliased t


def _cols(names: Sequence[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{n}"' for n in names)


def _key_match(keys: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f'{left}."{k}" = {right}."{k}"' for k in keys)


def _in_key_order(keys: Sequence[str], alias: str) -> str:
    """New versions go in in key order: the key's indexes (primary key, current key) are
    filled page after page instead of at a random page a row (452k new trade versions:
    4.8 s sorted, 7.5 s in hash-join order)."""
    return f" ORDER BY {_cols(keys, alias)}"


def temporal_merge_sql(
    hist: str,
    keys: Sequence[str],
    columns: Sequence[str],
    stage: str,
    *,
    valid: str | None = None,
    delete_missing: bool = True,
    scope: str = "",
) -> list[str]:
    """Make the current versions of ``hist`` equal the rows of ``stage``.

    Changed rows are updated (their old version closes at the system time), new keys
    inserted, and with ``delete_missing`` current keys absent from ``stage`` deleted
    (closed). With ``valid`` (a boolean column of ``stage``), only valid rows are
    applied, but every staged key counts as present: a rejected row never deletes. With
    ``scope`` (a condition on ``hist``'s columns) only current rows matching it are deleted:
    ``stage`` then holds that slice of the table, e.g. one business date.

    A full snapshot (``delete_missing`` without ``scope``) is compared with the current
    rows once, in one join, into a temporary table of the differences that the three
    changes then read (see :func:`_diff_sql`): it has to read the whole table anyway.
    Otherwise (a slice of a growing table such as gold's day, or a batch of changes) each
    change joins the stage itself, so nothing reads the table beyond the stage's keys.
    """
    if delete_missing and not scope:
        return _diff_sql(hist, keys, columns, stage, valid=valid)
    only_valid = f' AND s."{valid}"' if valid else ""
    statements: list[str] = []
    if delete_missing:
        # First, while the planner's statistics still describe the current rows: after the
        # insert they count none of the new ones, and a gold day's delete was planned as a
        # nested loop over "one" row that took 2 s instead of 20 ms.
        statements.append(
            f"DELETE FROM {hist} AS t WHERE {CURRENT} AND {scope} AND NOT EXISTS"
            f" (SELECT 1 FROM {stage} AS s WHERE {_key_match(keys, 't', 's')})"
        )
    return [
        *statements,
        f"UPDATE {hist} AS t SET ({_cols(columns)}) = ROW({_cols(columns, 's')})"
        f" FROM {stage} AS s WHERE {_key_match(keys, 't', 's')} AND {CURRENT}{only_valid}"
        f" AND ({_cols(columns, 't')}) IS DISTINCT FROM ({_cols(columns, 's')})",
        f"INSERT INTO {hist} ({_cols([*keys, *columns])})"
        f" SELECT {_cols([*keys, *columns], 's')} FROM {stage} AS s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {hist} AS t"
        f" WHERE {_key_match(keys, 't', 's')} AND {CURRENT}){only_valid}"
        + _in_key_order(keys, "s"),
    ]


CHANGE = "medallion_change"  # the diff's column saying what a row is: new, changed, missing
STAGED = "medallion_staged"


def _diff_sql(
    hist: str,
    keys: Sequence[str],
    columns: Sequence[str],
    stage: str,
    *,
    valid: str | None,
) -> list[str]:
    """A full snapshot's merge as one comparison and three small changes.

    A snapshot of a million rows with a tenth changed: the update, the insert and the
    delete each joined the whole stage with the whole current table (three hash joins of
    a million rows by a million); now one join writes the ~100k differences, and each
    change reads only its own (9.4 s against 12.3 s for the three plain statements).
    """
    diff = f'pg_temp."medallion_diff_{hist.rsplit(".", 1)[-1]}"'
    old = [f"medallion_old_{k}" for k in keys]  # the current row's key (a missing row's)
    applies = f' AND s."{valid}"' if valid else ""
    absent = f't."{keys[0]}" IS NULL'  # no current row: key columns are never NULL
    differs = f"{absent} OR ({_cols(columns, 't')}) IS DISTINCT FROM ({_cols(columns, 's')})"
    wanted = f"s.{STAGED} IS NULL OR (s.{STAGED}{applies} AND ({differs}))"
    olds = ", ".join(f't."{k}" AS "{o}"' for k, o in zip(keys, old, strict=True))
    kind = (
        f"CASE WHEN s.{STAGED} IS NULL THEN 'missing' WHEN {absent} THEN 'new' ELSE 'changed' END"
    )
    match = " AND ".join(f't."{k}" = d."{o}"' for k, o in zip(keys, old, strict=True))
    return [
        f"DROP TABLE IF EXISTS {diff}",
        f"CREATE TEMP TABLE {diff} ON COMMIT DROP AS"
        f" SELECT {_cols([*keys, *columns], 's')}, {olds}, {kind} AS {CHANGE}"
        f" FROM (SELECT *, true AS {STAGED} FROM {stage} AS s) AS s"
        f" FULL JOIN (SELECT {_cols([*keys, *columns])} FROM {hist} AS t WHERE {CURRENT}) AS t"
        f" ON {_key_match(keys, 't', 's')} WHERE {wanted}",
        f"ANALYZE {diff}",  # the changes below are planned from its real size
        f"DELETE FROM {hist} AS t USING {diff} AS d"
        f" WHERE d.{CHANGE} = 'missing' AND {match} AND {CURRENT}",
        f"UPDATE {hist} AS t SET ({_cols(columns)}) = ROW({_cols(columns, 'd')})"
        f" FROM {diff} AS d WHERE d.{CHANGE} = 'changed' AND {_key_match(keys, 't', 'd')}"
        f" AND {CURRENT}",
        f"INSERT INTO {hist} ({_cols([*keys, *columns])})"
        f" SELECT {_cols([*keys, *columns], 'd')} FROM {diff} AS d WHERE d.{CHANGE} = 'new'"
        + _in_key_order(keys, "d"),
    ]


def replace_sql(target: str, stage: str, columns: Sequence[str], where: str) -> list[str]:
    """Replace the rows of ``target`` matching ``where`` by ``stage``'s (a snapshot)."""
    return [
        f"DELETE FROM {target} WHERE {where}",
        f"INSERT INTO {target} ({_cols(columns)}) SELECT {_cols(columns)} FROM {stage}",
    ]


def quarantine_sql(quarantine: str, stage: str) -> str:
    """Replace a job's rejects for a date; params: job, logical date, source table, batch.

    ``stage`` holds ``record_key``, ``rule`` and ``record`` (JSON text).
    """
    return (
        f"WITH gone AS (DELETE FROM {quarantine} WHERE job = %(job)s"
        " AND logical_date = %(day)s)"
        f" INSERT INTO {quarantine} (job, logical_date, source_table, record_key, rule,"
        " batch_id, record, effective_time)"
        " SELECT %(job)s, %(day)s, %(source)s, record_key, rule, %(batch)s, record::jsonb,"
        f" %(at)s FROM {stage}"
    )

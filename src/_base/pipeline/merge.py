"""Set-based SQL a load publishes with: temporal merges, partition replaces, quarantine.

The history triggers do the versioning; these statements only say *what* changed, and
skip unchanged rows up front so no trigger fires for them.
"""

from __future__ import annotations

from collections.abc import Sequence


def _cols(names: Sequence[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{n}"' for n in names)


def _key_match(keys: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f'{left}."{k}" = {right}."{k}"' for k in keys)


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
    """
    only_valid = f' AND s."{valid}"' if valid else ""
    current = "t.sys_end = 'infinity'"
    statements = [
        f"UPDATE {hist} AS t SET ({_cols(columns)}) = ROW({_cols(columns, 's')})"
        f" FROM {stage} AS s WHERE {_key_match(keys, 't', 's')} AND {current}{only_valid}"
        f" AND ({_cols(columns, 't')}) IS DISTINCT FROM ({_cols(columns, 's')})",
        f"INSERT INTO {hist} ({_cols([*keys, *columns])})"
        f" SELECT {_cols([*keys, *columns], 's')} FROM {stage} AS s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {hist} AS t"
        f" WHERE {_key_match(keys, 't', 's')} AND {current}){only_valid}",
    ]
    if delete_missing:
        statements.append(
            f"DELETE FROM {hist} AS t WHERE {current}{f' AND {scope}' if scope else ''}"
            " AND NOT EXISTS"
            f" (SELECT 1 FROM {stage} AS s WHERE {_key_match(keys, 't', 's')})"
        )
    return statements


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

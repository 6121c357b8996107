"""What versioning derives from a temporal table's columns, as SQL a migration runs.

A migration that adds, renames, retypes or drops a column of a ``*_hist`` table must
also rebuild the trigger functions (they list the columns), the current-state view and
the as-of functions. The statements are the build's own
(:mod:`src._base.functions.temporal`), made from the column list a revision carries (the
table's columns after the change, in the database's order), never from the current
table classes: a revision means the same thing whenever it runs, and prints the same
SQL offline (``upgrade --sql``). After ``upgrade head`` the build finds everything up to
date, since it also renders an existing table's objects in the database's column order.

Dropping the view would lose its grants: they are kept in a temporary table until the
view is made again, in SQL, so offline scripts keep them too.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Inspector, inspect

from src._base.functions.temporal import (
    SYSTEM_COLUMNS,
    TRIGGER_FUNCTIONS,
    TRIGGER_NAMES,
    TemporalNames,
    as_of_functions,
    constraints,
    current_view,
    trigger_functions,
    triggers,
)
from src._base.naming import qualified, quote
from src.utils.errors import DefinitionError

GRANTS = "pg_temp.medallion_view_grants"


def names_of(
    schema: str, table: str, keys: Sequence[str], columns: Sequence[str], key_column: str
) -> TemporalNames:
    """The generated names of a temporal table with these (non-system) columns."""
    return TemporalNames(schema, table, tuple(keys), tuple(columns), key_column)


def temporal_names_of(inspector: Inspector, schema: str, table: str) -> TemporalNames | None:
    """The generated names of ``schema.table`` as the database has it (None: the table
    is not temporal)."""
    columns = [c["name"] for c in inspector.get_columns(table, schema=schema)]
    if not set(SYSTEM_COLUMNS) <= set(columns):
        return None
    key = inspector.get_pk_constraint(table, schema=schema)["constrained_columns"]
    return names_of(
        schema,
        table,
        [c for c in key if c not in SYSTEM_COLUMNS],
        [c for c in columns if c not in SYSTEM_COLUMNS],
        "sys_end" if "sys_end" in key else "sys_start",
    )


def reflected_names(connection: Connection, schema: str, table: str) -> TemporalNames:
    """The generated names of ``schema.table`` as the database has it now."""
    inspector = inspect(connection)
    if not inspector.has_table(table, schema=schema):
        raise DefinitionError(f"{schema}.{table} does not exist in this database")
    names = temporal_names_of(inspector, schema, table)
    if names is None:
        raise DefinitionError(
            f"{schema}.{table} is not a temporal table (it lacks sys_start and sys_end)"
        )
    return names


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def drop_view_sql(names: TemporalNames) -> list[str]:
    """Keep the current-state view's grants, then drop it (a column it shows changes)."""
    schema, view = _literal(names.schema or "public"), _literal(names.view)
    return [
        f"CREATE TEMP TABLE IF NOT EXISTS {GRANTS.split('.')[1]} (view_schema text, view_name"
        " text, grantee text, privilege text) ON COMMIT DROP",
        f"""INSERT INTO {GRANTS}
SELECT table_schema, table_name, grantee, privilege_type
FROM information_schema.role_table_grants
WHERE table_schema = {schema} AND table_name = {view} AND grantee <> current_user
  AND NOT EXISTS (SELECT FROM {GRANTS} g
                  WHERE g.view_schema = {schema} AND g.view_name = {view})""",
        f"DROP VIEW IF EXISTS {qualified(names.schema, names.view)}",
    ]


def _restore_grants(names: TemporalNames) -> str:
    schema, view = _literal(names.schema or "public"), _literal(names.view)
    return f"""DO $grants$
DECLARE g record;
BEGIN
    FOR g IN SELECT grantee, privilege FROM {GRANTS}
             WHERE view_schema = {schema} AND view_name = {view} LOOP
        EXECUTE format('GRANT %s ON %I.%I TO %s', g.privilege, {schema}, {view},
            CASE WHEN g.grantee = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.grantee) END);
    END LOOP;
    DELETE FROM {GRANTS} WHERE view_schema = {schema} AND view_name = {view};
END
$grants$"""


def regenerate_sql(names: TemporalNames) -> list[str]:
    """Rebuild the trigger functions, the current-state view (with its grants) and the
    as-of functions for the table's columns in ``names``."""
    return [
        *drop_view_sql(names),
        *trigger_functions(names).values(),
        *current_view(names).values(),
        *as_of_functions(names).values(),
        _restore_grants(names),
    ]


def create_sql(names: TemporalNames) -> list[str]:
    """Everything the build adds to a new temporal table (after ``create_table``)."""
    return [
        *constraints(names),
        *trigger_functions(names).values(),
        *triggers(names).values(),
        *current_view(names).values(),
        *as_of_functions(names).values(),
    ]


def drop_sql(names: TemporalNames) -> list[str]:
    """Everything :func:`create_sql` made, leaving the plain table (before
    ``drop_table``: the view and the as-of functions depend on the table)."""
    statements = [f"DROP VIEW IF EXISTS {qualified(names.schema, names.view)}"]
    statements += [
        f"DROP FUNCTION IF EXISTS {names.view_function('as_of')}(timestamptz)",
        f"DROP FUNCTION IF EXISTS {names.view_function('between')}(timestamptz, timestamptz)",
    ]
    statements += [f"DROP TRIGGER IF EXISTS {t} ON {names.table}" for t in TRIGGER_NAMES]
    statements += [f"DROP FUNCTION IF EXISTS {names.function(s)}()" for s in TRIGGER_FUNCTIONS]
    statements += [
        f"ALTER TABLE {names.table} DROP CONSTRAINT IF EXISTS {quote(names.period_check)}",
        f"DROP INDEX IF EXISTS {qualified(names.schema, names.current_index)}",
    ]
    return statements

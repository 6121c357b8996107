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
from dataclasses import replace

from sqlalchemy import Connection, Inspector, inspect, text

from src._base.functions.temporal import (
    OBSOLETE_TRIGGER_NAMES,
    SYSTEM_COLUMNS,
    TRIGGER_FUNCTIONS,
    TRIGGER_NAMES,
    TemporalNames,
    as_of_functions,
    constraints,
    current_key_index,
    current_view,
    partition_trigger_targets,
    partitions,
    trigger_functions,
    triggers,
)
from src._base.naming import literal, qualified, quote
from src.utils.errors import DefinitionError

GRANTS = "pg_temp.medallion_view_grants"  # it keeps tables' grants too


def names_of(
    schema: str,
    table: str,
    keys: Sequence[str],
    columns: Sequence[str],
    key_column: str,
    partitioned: bool = False,
) -> TemporalNames:
    """The generated names of a temporal table with these (non-system) columns."""
    return TemporalNames(schema, table, tuple(keys), tuple(columns), key_column, partitioned)


def is_partitioned(connection: Connection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` is a partitioned table (the partitioned history layout)."""
    found = connection.execute(
        text(
            "SELECT c.relkind = 'p' FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relname = :table"
        ),
        {"schema": schema, "table": table},
    ).scalar()
    return bool(found)


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
        is_partitioned(inspector.bind, schema, table),
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


def drop_view_sql(names: TemporalNames) -> list[str]:
    """Keep the current-state view's grants, then drop it (a column it shows changes)."""
    schema = names.schema or "public"
    return [
        *keep_grants_sql(schema, names.view),
        f"DROP VIEW IF EXISTS {qualified(names.schema, names.view)}",
    ]


def keep_grants_sql(schema: str, relation: str) -> list[str]:
    """Keep a relation's grants (to others than the current user) until the end of the
    transaction, once: a second keep of the same relation changes nothing."""
    schema_text, relation_text = literal(schema), literal(relation)
    return [
        f"CREATE TEMP TABLE IF NOT EXISTS {GRANTS.split('.')[1]} (view_schema text, view_name"
        " text, grantee text, privilege text) ON COMMIT DROP",
        f"""INSERT INTO {GRANTS}
SELECT table_schema, table_name, grantee, privilege_type
FROM information_schema.role_table_grants
WHERE table_schema = {schema_text} AND table_name = {relation_text} AND grantee <> current_user
  AND NOT EXISTS (SELECT FROM {GRANTS} g
                  WHERE g.view_schema = {schema_text} AND g.view_name = {relation_text})""",
    ]


def restore_grants_sql(schema: str, relation: str) -> str:
    """Grant again what :func:`keep_grants_sql` kept of a relation made anew."""
    schema_text, relation_text = literal(schema), literal(relation)
    return f"""DO $grants$
DECLARE g record;
BEGIN
    FOR g IN SELECT grantee, privilege FROM {GRANTS}
             WHERE view_schema = {schema_text} AND view_name = {relation_text} LOOP
        EXECUTE format('GRANT %s ON %I.%I TO %s', g.privilege, {schema_text}, {relation_text},
            CASE WHEN g.grantee = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.grantee) END);
    END LOOP;
    DELETE FROM {GRANTS} WHERE view_schema = {schema_text} AND view_name = {relation_text};
END
$grants$"""


def _restore_view_grants(names: TemporalNames) -> str:
    return restore_grants_sql(names.schema or "public", names.view)


def regenerate_sql(names: TemporalNames) -> list[str]:
    """Rebuild the trigger functions, the current-state view (with its grants) and the
    as-of functions for the table's columns in ``names``."""
    return [
        *drop_view_sql(names),
        *trigger_functions(names).values(),
        *current_view(names).values(),
        *as_of_functions(names).values(),
        _restore_view_grants(names),
    ]


def create_sql(names: TemporalNames) -> list[str]:
    """Everything the build adds to a new temporal table (after ``create_table``)."""
    return [
        *partitions(names),
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
    statements += _drop_as_of_sql(names)
    statements += [
        f"DROP TRIGGER IF EXISTS {t} ON {names.table}"
        for t in (*TRIGGER_NAMES, *OBSOLETE_TRIGGER_NAMES)
    ]
    statements += [  # the partitions' own, which use the functions dropped below
        f"DROP TRIGGER IF EXISTS {name} ON {table}"
        for table, name in partition_trigger_targets(names)
    ]
    statements += [f"DROP FUNCTION IF EXISTS {names.function(s)}()" for s in TRIGGER_FUNCTIONS]
    statements += [
        f"ALTER TABLE {names.table} DROP CONSTRAINT IF EXISTS {quote(names.period_check)}",
        f"DROP INDEX IF EXISTS {qualified(names.schema, names.current_index)}",
    ]
    return statements


def _drop_as_of_sql(names: TemporalNames) -> list[str]:
    return [
        f"DROP FUNCTION IF EXISTS {names.view_function('as_of')}(timestamptz)",
        f"DROP FUNCTION IF EXISTS {names.view_function('between')}(timestamptz, timestamptz)",
    ]


CONVERTING = "medallion_converting"  # the new table's name while it is filled


def convert_sql(
    names: TemporalNames, partitioned: bool, single_key: str = "sys_start"
) -> list[str]:
    """Store ``names``' table in the other history layout, keeping every version, every
    grant, the other indexes, the foreign keys and the period check: a new table (partitioned by
    ``sys_end`` with (key, sys_end) as primary key, or single with (key, ``single_key``))
    is filled from the old one before any trigger exists, then takes its name."""
    target = replace(names, partitioned=partitioned,
                     key_column="sys_end" if partitioned else single_key)  # fmt: skip
    schema = names.schema or "public"
    new = qualified(schema, CONVERTING)
    key = ", ".join(quote(k) for k in (*names.keys, target.key_column))
    layout = " PARTITION BY RANGE (sys_end)" if partitioned else ""
    return [
        *drop_view_sql(names),
        *_drop_as_of_sql(names),  # they return the old table's rows; the rest goes with it
        *keep_grants_sql(schema, names.hist),
        f"CREATE TEMP TABLE medallion_indexes ON COMMIT DROP AS {_OTHER_INDEXES}".format(
            schema=literal(schema), table=literal(names.hist)
        ),
        f"CREATE TEMP TABLE medallion_foreign_keys ON COMMIT DROP AS {_FOREIGN_KEYS}".format(
            table=literal(names.table)
        ),
        f"CREATE TABLE {new} (LIKE {names.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING STORAGE INCLUDING COMMENTS){layout}",
        f"ALTER TABLE {new} ADD PRIMARY KEY ({key})",
        *partitions(replace(target, hist=CONVERTING)),
        f"INSERT INTO {new} SELECT * FROM {names.table}",
        f"DROP TABLE {names.table}",
        f"ALTER TABLE {new} RENAME TO {quote(names.hist)}",
        *_rename_converted(target),
        _RECREATE_INDEXES,
        _READD_FOREIGN_KEYS.format(table=literal(names.table)),
        restore_grants_sql(schema, names.hist),
        *current_key_index(target),  # LIKE copied the period check
        *trigger_functions(target).values(),
        *triggers(target).values(),
        *current_view(target).values(),
        *as_of_functions(target).values(),
        _restore_view_grants(target),
    ]


# The old table's indexes other than its key and the current-key index, as definitions.
_OTHER_INDEXES = """SELECT replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') AS sql
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class x ON x.oid = i.indexrelid
WHERE n.nspname = {schema} AND c.relname = {table} AND NOT i.indisprimary
  AND x.relname NOT LIKE '%\\_current\\_key'"""
# Its foreign keys (to reference tables), which LIKE does not copy.
_FOREIGN_KEYS = """SELECT conname::text AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid = {table}::regclass AND contype = 'f'"""
_READD_FOREIGN_KEYS = """DO $keys$
DECLARE k record;
BEGIN
    FOR k IN SELECT name, definition FROM medallion_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', {table}, k.name, k.definition);
    END LOOP;
END
$keys$"""
_RECREATE_INDEXES = """DO $indexes$
DECLARE d record;
BEGIN
    FOR d IN SELECT sql FROM medallion_indexes LOOP
        EXECUTE d.sql;
    END LOOP;
END
$indexes$"""


def _rename_converted(target: TemporalNames) -> list[str]:
    """The converted table's key constraint and partitions take their usual names."""
    statements = [
        f"ALTER TABLE {target.table} RENAME CONSTRAINT "
        f"{quote(CONVERTING + '_pkey')} TO {quote(target.hist + '_pkey')}"
    ]
    if target.partitioned:
        converting = replace(target, hist=CONVERTING)
        for kind in ("current", "closed"):
            statements.append(
                f"ALTER TABLE {qualified(target.schema, converting.partition_name(kind))} "
                f"RENAME TO {quote(target.partition_name(kind))}"
            )
    return statements

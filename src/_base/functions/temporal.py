"""System versioning in plain PL/pgSQL: history triggers, current-state view, as-of reads.

For a temporal table ``s.x_hist`` (business key ``K``, other columns ``C``) the framework
generates:

* ``x_hist_current_key``: a unique index on ``K`` over current rows (``sys_end =
  'infinity'``), so each key has at most one current version, even under concurrency;
* ``x_hist_period_check``: ``sys_start < sys_end``: no empty or inverted range;
* a BEFORE UPDATE row trigger: refuses changes to closed versions and to the key, skips
  updates that change nothing, and moves ``sys_start`` of the new version to the system
  time;
* AFTER UPDATE and AFTER DELETE statement triggers that use transition tables to write
  every closed version in one set-based INSERT (the expensive part stays set-based);
* an AFTER INSERT statement trigger that refuses hand-set system columns and a start
  before the end of an existing version of the same key;
* a BEFORE TRUNCATE trigger that refuses TRUNCATE;
* the view ``s.x``: current versions (auto-updatable, so INSERT/UPDATE/DELETE through it
  are versioned by the same triggers);
* ``s.x__as_of(at_time)`` and ``s.x__between(from_time, to_time)``.

A version created earlier in the same transaction (``sys_start`` = system time) is
changed in place and leaves no trace when deleted: no zero-length versions. Setting
``medallion.allow_history_rewrite = on`` for a transaction turns all of this off for
it (repairs, retention, TRUNCATE).
"""

from __future__ import annotations

from dataclasses import dataclass

from src._base.functions.system_time import (
    INTERNAL_SETTING,
    REWRITE_SETTING,
    SET_SYSTEM_TIME,
    SYSTEM_TIME_CALL,
    SYSTEM_TIME_SETTING,
)
from src._base.naming import identifier, qualified, quote

SYSTEM_COLUMNS = ("sys_start", "sys_end")


@dataclass(frozen=True)
class TemporalNames:
    """Every generated name for one temporal table, each within 63 bytes."""

    schema: str | None
    hist: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]  # all non-system columns, keys included, in table order

    @property
    def view(self) -> str:
        return self.hist.removesuffix("_hist")

    @property
    def table(self) -> str:
        return qualified(self.schema, self.hist)

    @property
    def display(self) -> str:
        """The table's name as error messages show it."""
        return f"{self.schema}.{self.hist}" if self.schema else self.hist

    def function(self, suffix: str) -> str:
        return qualified(self.schema, identifier(self.hist + "_", suffix))

    def view_function(self, suffix: str) -> str:
        return qualified(self.schema, identifier(self.view + "_", suffix))

    def plain(self, quoted_name: str) -> str:
        """``"s"."x"`` → ``s.x``: how the catalog names an object."""
        return quoted_name.replace('"', "")

    @property
    def current_index(self) -> str:
        return identifier(self.hist, "current_key")

    @property
    def period_check(self) -> str:
        return identifier(self.hist, "period_check")


def _cols(names: tuple[str, ...], prefix: str = "") -> str:
    return ", ".join(prefix + quote(name) for name in names)


def _key_text(names: TemporalNames, record: str) -> str:
    parts = ", ".join(f"{record}.{quote(k)}::text" for k in names.keys)
    return f"concat_ws(', ', {parts})"


def _guard() -> str:
    """PL/pgSQL that returns early while versioning is off or the framework writes itself."""
    return (
        f"    IF current_setting('{REWRITE_SETTING}', true) = 'on'\n"
        f"       OR current_setting('{INTERNAL_SETTING}', true) = 'on' THEN\n"
        "        RETURN NULL;\n"
        "    END IF;\n"
    )


def _too_early(names: TemporalNames, record: str, bound: str) -> str:
    """RAISE for a change at a system time before an existing version of the key."""
    return f"""RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('{names.display}: key (%s) has a version starting or ending '
                    'at %s, after the system time %s of this change', {_key_text(names, record)},
                    {bound}, t),
                HINT = 'A concurrent transaction changed this key first: retry. If you set '
                    '{SYSTEM_TIME_SETTING}, a version cannot start before an existing one.';"""


def _closed_version_error(names: TemporalNames, record: str) -> str:
    return f"""RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('{names.display}: version of key (%s) valid from %s to %s is closed '
                'and cannot be changed', {_key_text(names, record)},
                {record}.sys_start, {record}.sys_end),
            HINT = 'Change the current version (sys_end = ''infinity'') instead. Repairs need '
                'SET LOCAL {REWRITE_SETTING} = on.';"""


def before_update_function(names: TemporalNames) -> str:
    key_changed = " OR ".join(f"NEW.{quote(k)} IS DISTINCT FROM OLD.{quote(k)}" for k in names.keys)
    return f"""CREATE OR REPLACE FUNCTION {names.function("before_update")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz;
BEGIN
    IF current_setting('{REWRITE_SETTING}', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF OLD.sys_end <> 'infinity' THEN
        {_closed_version_error(names, "OLD")}
    END IF;
    IF NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NULL;  -- nothing changed: no new version
    END IF;
    IF {key_changed} THEN
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('{names.display}: the business key (%s) cannot be updated',
                {_key_text(names, "OLD")}),
            HINT = 'Delete the row and insert it under its new key.';
    END IF;
    IF NEW.sys_start IS DISTINCT FROM OLD.sys_start OR NEW.sys_end <> 'infinity' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = '{names.display}: sys_start and sys_end are maintained by the framework',
            HINT = 'Leave them out of the UPDATE; call {SET_SYSTEM_TIME}() to set the time.';
    END IF;
    t := {SYSTEM_TIME_CALL};
    IF OLD.sys_start > t THEN
        {_too_early(names, "OLD", "OLD.sys_start")}
    END IF;
    NEW.sys_start := t;
    RETURN NEW;
END
$fn$"""


def _write_closed_versions(names: TemporalNames) -> str:
    cols = _cols(names.columns)
    return f"""    PERFORM set_config('{INTERNAL_SETTING}', 'on', true);
    INSERT INTO {names.table} ({cols}, sys_start, sys_end)
    SELECT {_cols(names.columns, "o.")}, o.sys_start, t
    FROM old_rows AS o
    WHERE o.sys_start < t;
    PERFORM set_config('{INTERNAL_SETTING}', '', true);"""


def after_update_function(names: TemporalNames) -> str:
    return f"""CREATE OR REPLACE FUNCTION {names.function("after_update")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := {SYSTEM_TIME_CALL};
BEGIN
{_guard()}{_write_closed_versions(names)}
    RETURN NULL;
END
$fn$"""


def after_delete_function(names: TemporalNames) -> str:
    return f"""CREATE OR REPLACE FUNCTION {names.function("after_delete")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := {SYSTEM_TIME_CALL};
    bad record;
BEGIN
{_guard()}    SELECT * INTO bad FROM old_rows AS o WHERE o.sys_end <> 'infinity' LIMIT 1;
    IF FOUND THEN
        {_closed_version_error(names, "bad")}
    END IF;
    SELECT * INTO bad FROM old_rows AS o WHERE o.sys_start > t LIMIT 1;
    IF FOUND THEN
        {_too_early(names, "bad", "bad.sys_start")}
    END IF;
{_write_closed_versions(names)}
    RETURN NULL;
END
$fn$"""


def after_insert_function(names: TemporalNames) -> str:
    join = " AND ".join(f"h.{quote(k)} = n.{quote(k)}" for k in names.keys)
    return f"""CREATE OR REPLACE FUNCTION {names.function("after_insert")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := {SYSTEM_TIME_CALL};
    bad record;
BEGIN
{_guard()}    SELECT * INTO bad FROM new_rows AS n
    WHERE n.sys_start <> t OR n.sys_end <> 'infinity' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('{names.display}: key (%s) was inserted with sys_start %s and sys_end '
                '%s; both are maintained by the framework', {_key_text(names, "bad")},
                bad.sys_start, bad.sys_end),
            HINT = 'Leave sys_start and sys_end out of the INSERT; to load history as of another '
                'time, call {SET_SYSTEM_TIME}() first.';
    END IF;
    SELECT h.* INTO bad FROM new_rows AS n JOIN {names.table} AS h ON {join}
    WHERE h.sys_end <> 'infinity' AND h.sys_end > t LIMIT 1;
    IF FOUND THEN
        {_too_early(names, "bad", "bad.sys_end")}
    END IF;
    RETURN NULL;
END
$fn$"""


def refuse_truncate_function(names: TemporalNames) -> str:
    return f"""CREATE OR REPLACE FUNCTION {names.function("refuse_truncate")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('{REWRITE_SETTING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = '{names.display} is a temporal table: TRUNCATE would erase its history',
        HINT = 'If you mean it: BEGIN; SET LOCAL {REWRITE_SETTING} = on; TRUNCATE ...; COMMIT;';
END
$fn$"""


TRIGGER_FUNCTIONS = {
    "before_update": before_update_function,
    "after_update": after_update_function,
    "after_delete": after_delete_function,
    "after_insert": after_insert_function,
    "refuse_truncate": refuse_truncate_function,
}


def trigger_functions(names: TemporalNames) -> dict[str, str]:
    """``{schema.function_name: CREATE statement}`` for every trigger function."""
    return {
        names.plain(names.function(suffix)): render(names)
        for suffix, render in TRIGGER_FUNCTIONS.items()
    }


TRIGGER_NAMES = (
    "versioning_before_update",
    "versioning_after_update",
    "versioning_after_delete",
    "versioning_after_insert",
    "versioning_refuse_truncate",
)


def triggers(names: TemporalNames) -> dict[str, str]:
    """``{schema.table.trigger: CREATE TRIGGER}``; trigger names are per table, unprefixed."""
    table = names.table
    statements = [
        f"CREATE TRIGGER versioning_before_update BEFORE UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {names.function('before_update')}()",
        f"CREATE TRIGGER versioning_after_update AFTER UPDATE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {names.function('after_update')}()",
        f"CREATE TRIGGER versioning_after_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {names.function('after_delete')}()",
        f"CREATE TRIGGER versioning_after_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {names.function('after_insert')}()",
        f"CREATE TRIGGER versioning_refuse_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {names.function('refuse_truncate')}()",
    ]
    prefix = names.plain(names.table)
    return {f"{prefix}.{name}": sql for name, sql in zip(TRIGGER_NAMES, statements, strict=True)}


def constraints(names: TemporalNames) -> list[str]:
    """The period check and the one-current-version-per-key index."""
    return [
        f"ALTER TABLE {names.table} ADD CONSTRAINT {quote(names.period_check)} "
        "CHECK (sys_start < sys_end)",
        f"CREATE UNIQUE INDEX {quote(names.current_index)} ON {names.table} "
        f"({_cols(names.keys)}) WHERE sys_end = 'infinity'",
    ]


def current_view(names: TemporalNames) -> dict[str, str]:
    sql = (
        f"CREATE OR REPLACE VIEW {qualified(names.schema, names.view)} AS\n"
        f"SELECT {_cols(names.columns)}, sys_start\n"
        f"FROM {names.table}\n"
        "WHERE sys_end = 'infinity'"
    )
    return {names.plain(qualified(names.schema, names.view)): sql}


def as_of_functions(names: TemporalNames) -> dict[str, str]:
    as_of = f"""CREATE OR REPLACE FUNCTION {names.view_function("as_of")}(at_time timestamptz)
RETURNS SETOF {names.table}
LANGUAGE sql STABLE AS $fn$
    SELECT * FROM {names.table} WHERE sys_start <= at_time AND sys_end > at_time
$fn$"""
    between = f"""CREATE OR REPLACE FUNCTION {names.view_function("between")}(
    from_time timestamptz, to_time timestamptz
)
RETURNS SETOF {names.table}
LANGUAGE sql STABLE AS $fn$
    SELECT * FROM {names.table} WHERE sys_start < to_time AND sys_end > from_time
$fn$"""
    return {
        names.plain(names.view_function("as_of")): as_of,
        names.plain(names.view_function("between")): between,
    }

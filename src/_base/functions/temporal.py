"""System versioning in plain PL/pgSQL: history triggers, current-state view, as-of reads.

For a temporal table ``s.x_hist`` (business key ``K``, other columns ``C``) the framework
generates:

* the primary key ``(K, sys_start)`` (or ``(K, sys_end)``, see ``__temporal_key__`` on
  :class:`~src._base.tables.table_type_mixins.TemporalTableMixin`); with ``(K, sys_start)``
  a unique index ``x_hist_current_key`` on ``K`` over current rows keeps one current
  version per key, even under concurrency;
* ``x_hist_period_check``: ``sys_start < sys_end``: no empty or inverted range;
* BEFORE UPDATE row triggers: PostgreSQL's built-in ``suppress_redundant_updates_trigger``
  drops updates that change nothing; a check whose WHEN clause (an expression the
  executor evaluates itself, no PL/pgSQL) lets through only the rows that need a look (a
  closed version, a changed key or system column, a version starting at or after the
  system time, a rewrite) and refuses what is wrong; then ``medallion.stamp_version()``
  stamps ``sys_start``, the only per-row function of an ordinary update (PostgreSQL's
  own C ``moddatetime`` where the build may install it, see
  :func:`~src._base.functions.system_time.stamp_version_ddl`; ``stamp_version_at()`` at
  a time set by a replay);
* AFTER UPDATE and AFTER DELETE statement triggers that read the transition table and
  write every closed version in one set-based INSERT (in the partitioned layout straight
  into the closed partition when the user may); a BEFORE DELETE row check, again only
  for the rows its WHEN clause lets through, refuses deleting a closed version and guards
  same-instant deletes;
* an AFTER INSERT statement trigger, for the user's inserts only, that refuses hand-set
  system columns and a start before the end of an existing version of the same key;
* a BEFORE TRUNCATE trigger that refuses TRUNCATE;
* the view ``s.x``: current versions (auto-updatable, so INSERT/UPDATE/DELETE through it
  are versioned by the same triggers); in the partitioned layout it reads the current
  partition itself, which carries its own copies of the statement triggers;
* ``s.x__as_of(at_time)`` and ``s.x__between(from_time, to_time)``.

A version created earlier in the same transaction (``sys_start`` = system time) is
changed in place and leaves no trace when deleted: no zero-length versions. "The same
transaction" is decided by the row's writer (its ``xmin``), never by comparing times: a
version that another transaction committed at this transaction's very instant (two
transactions can start in the same microsecond) is never overwritten; the change fails
with SQLSTATE 40001 and its retry runs at a later instant. Only a replay (a time set by
``medallion.set_system_time()``) may rewrite versions opened at its time by an earlier
run of itself. Setting
``medallion.allow_history_rewrite = on`` for a transaction turns all of this off for
it (repairs, retention, TRUNCATE).
"""

from __future__ import annotations

from dataclasses import dataclass

from src._base.functions.system_time import (
    INTERNAL_SETTING,
    REPLAY_SETTING,
    REWRITE_SETTING,
    SET_SYSTEM_TIME,
    STAMP_VERSION,
    STAMP_VERSION_AT,
    SYSTEM_TIME_CALL,
    SYSTEM_TIME_EXPR,
    SYSTEM_TIME_SETTING,
    SYSTEM_TIME_UNSET,
    WRITTEN_HERE,
)
from src._base.naming import identifier, literal, qualified, quote

SYSTEM_COLUMNS = ("sys_start", "sys_end")
REWRITE_ON = f"current_setting('{REWRITE_SETTING}', true) = 'on'"
REWRITE_OFF = f"current_setting('{REWRITE_SETTING}', true) IS DISTINCT FROM 'on'"


@dataclass(frozen=True)
class TemporalNames:
    """Every generated name for one temporal table, each within 63 bytes."""

    schema: str | None
    hist: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]  # all non-system columns, keys included, in table order
    key_column: str = "sys_start"  # the system column in the primary key
    partitioned: bool = False  # current rows and closed versions in two partitions

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

    @property
    def display_literal(self) -> str:
        """``display`` safe inside a SQL string literal that is also a ``format()`` pattern."""
        return self.display.replace("'", "''").replace("%", "%%")

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

    def partition_name(self, kind: str) -> str:
        """``current`` or ``closed``: the partition's name, unqualified."""
        return identifier(self.hist, kind)

    @property
    def current_partition(self) -> str:
        return qualified(self.schema, self.partition_name("current"))

    @property
    def closed_partition(self) -> str:
        return qualified(self.schema, self.partition_name("closed"))


def _cols(names: tuple[str, ...], prefix: str = "") -> str:
    return ", ".join(prefix + quote(name) for name in names)


def _key_text(names: TemporalNames, record: str) -> str:
    parts = ", ".join(f"{record}.{quote(k)}::text" for k in names.keys)
    return f"concat_ws(', ', {parts})"


def _rewrite_guard(returns: str) -> str:
    """PL/pgSQL that returns early while the table's owner has switched versioning off."""
    return f"""    IF current_setting('{REWRITE_SETTING}', true) = 'on' THEN
        IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = '{REWRITE_SETTING} is honoured for the table''s owner only';
        END IF;
        RETURN {returns};
    END IF;
"""


def _too_early(names: TemporalNames, record: str, bound: str) -> str:
    """RAISE for a change at a system time before an existing version of the key."""
    return f"""RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('{names.display_literal}: key (%s) has a version starting or '
                    'ending at %s, after the system time %s of this change',
                    {_key_text(names, record)}, {bound}, t),
                HINT = 'A concurrent transaction changed this key first: retry. If you set '
                    '{SYSTEM_TIME_SETTING}, a version cannot start before an existing one.';"""


def _closed_version_error(names: TemporalNames, record: str) -> str:
    return f"""RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('{names.display_literal}: version of key (%s) valid from %s to %s '
                'is closed and cannot be changed', {_key_text(names, record)},
                {record}.sys_start, {record}.sys_end),
            HINT = 'Change the current version (sys_end = ''infinity'') instead. Repairs need '
                'SET LOCAL {REWRITE_SETTING} = on.';"""


def _managed_columns_error(names: TemporalNames, statement: str) -> str:
    return f"""RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = '{names.display_literal}: sys_start and sys_end are maintained by the '
                'framework',
            HINT = 'Leave them out of the {statement}; to write history as of another time, '
                'call {SET_SYSTEM_TIME}() first.';"""


def _same_instant_guard(names: TemporalNames, record: str) -> str:
    """PL/pgSQL for a change to a version that starts at this transaction's system time.

    Outside a replay, that version must be this transaction's own (then it changes in
    place); one committed by another transaction at the same instant fails with 40001.
    The nested IF keeps the per-row test a simple expression: the lookup runs only on a tie.
    """
    key = " AND ".join(f"h.{quote(k)} = {record}.{quote(k)}" for k in names.keys)
    return f"""    IF {record}.sys_start = t
       AND current_setting('{REPLAY_SETTING}', true) IS DISTINCT FROM 'on' THEN
        IF {WRITTEN_HERE}((SELECT h.xmin FROM {names.table} AS h
                WHERE {key} AND h.sys_end = 'infinity')) IS NOT TRUE THEN
            RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('{names.display_literal}: key (%s) has a version that another '
                    'transaction committed at this transaction''s system time %s',
                    {_key_text(names, record)}, t),
                HINT = 'Two transactions started in the same instant: retry, the retry runs at '
                    'a later time. Replays that mean to rewrite that time call '
                    '{SET_SYSTEM_TIME}() first.';
        END IF;
    END IF;
"""


def _key_changed(names: TemporalNames) -> str:
    return " OR ".join(f"NEW.{quote(k)} IS DISTINCT FROM OLD.{quote(k)}" for k in names.keys)


def update_needs_check(names: TemporalNames) -> str:
    """The WHEN clause of the update check: every row :func:`before_update_function` could
    refuse or must look at. An ordinary update of a current version fails all of it."""
    return (
        f"OLD.sys_end <> 'infinity' OR NEW.sys_end <> 'infinity' "
        f"OR NEW.sys_start IS DISTINCT FROM OLD.sys_start OR {_key_changed(names)} "
        f"OR OLD.sys_start >= {SYSTEM_TIME_EXPR} OR {REWRITE_ON}"
    )


def delete_needs_check(names: TemporalNames) -> str:
    """The WHEN clause of the delete check (see :func:`before_delete_function`)."""
    return f"OLD.sys_end <> 'infinity' OR OLD.sys_start >= {SYSTEM_TIME_EXPR} OR {REWRITE_ON}"


def before_update_function(names: TemporalNames) -> str:
    """The update check, for the rows :func:`update_needs_check` lets through: refuse what
    is wrong, guard same-instant versions, stamp ``sys_start`` (also done, for every other
    row, by ``medallion.stamp_version()``, which runs after it).

    Updates that change nothing never get here: ``suppress_redundant_updates_trigger``
    (built into PostgreSQL, in C) drops them first.
    """
    key_changed = _key_changed(names)
    return f"""CREATE OR REPLACE FUNCTION {names.function("before_update")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := {SYSTEM_TIME_CALL};
BEGIN
{_rewrite_guard("NEW")}    IF OLD.sys_end <> 'infinity' OR NEW.sys_end <> 'infinity'
       OR OLD.sys_start > t OR NEW.sys_start IS DISTINCT FROM OLD.sys_start
       OR {key_changed} THEN
        IF OLD.sys_end <> 'infinity' THEN
            {_closed_version_error(names, "OLD")}
        ELSIF NEW.sys_end <> 'infinity' OR NEW.sys_start IS DISTINCT FROM OLD.sys_start THEN
            {_managed_columns_error(names, "UPDATE")}
        ELSIF OLD.sys_start > t THEN
            {_too_early(names, "OLD", "OLD.sys_start")}
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('{names.display_literal}: the business key (%s) cannot be updated',
                {_key_text(names, "OLD")}),
            HINT = 'Delete the row and insert it under its new key.';
    END IF;
{_same_instant_guard(names, "OLD")}    NEW.sys_start := t;  -- unchanged on its own version
    RETURN NEW;
END
$fn$"""


def _insert_closed_versions(names: TemporalNames, target: str, indent: str) -> str:
    lines = [
        f"INSERT INTO {target} ({_cols(names.columns)}, sys_start, sys_end)",
        f"SELECT {_cols(names.columns, 'o.')}, o.sys_start, t",
        "FROM old_rows AS o",
        "WHERE o.sys_start < t;  -- versions opened at t (by this transaction or a replay): "
        "no trace",
    ]
    return "\n".join(indent + line for line in lines)


def _write_closed_versions(names: TemporalNames) -> str:
    """Closed versions in one INSERT. Through ``*_hist`` it is marked internal, so the
    insert check skips it; in the partitioned layout it goes straight into the closed
    partition (no routing, no insert check at all) when the user may insert there, since a
    grant on ``*_hist`` does not reach its partitions."""

    def through_table(indent: str) -> str:
        return "\n".join(
            [
                f"{indent}PERFORM set_config('{INTERNAL_SETTING}', 'on', true);",
                _insert_closed_versions(names, names.table, indent),
                f"{indent}PERFORM set_config('{INTERNAL_SETTING}', '', true);",
            ]
        )

    if not names.partitioned:
        return through_table("    ")
    closed = names.closed_partition
    return f"""    IF has_table_privilege({literal(closed)}, 'INSERT') THEN
{_insert_closed_versions(names, closed, " " * 8)}
    ELSE
{through_table(" " * 8)}
    END IF;"""


def after_update_function(names: TemporalNames) -> str:
    return f"""CREATE OR REPLACE FUNCTION {names.function("after_update")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := {SYSTEM_TIME_CALL};
BEGIN
{_rewrite_guard("NULL")}{_write_closed_versions(names)}
    RETURN NULL;
END
$fn$"""


def before_delete_function(names: TemporalNames) -> str:
    """The delete check, for the rows :func:`delete_needs_check` lets through: a closed
    version or one starting after the system time is refused, and another transaction's
    version starting at it is never erased."""
    return f"""CREATE OR REPLACE FUNCTION {names.function("before_delete")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := {SYSTEM_TIME_CALL};
BEGIN
{_rewrite_guard("OLD")}    IF OLD.sys_end <> 'infinity' THEN
        {_closed_version_error(names, "OLD")}
    ELSIF OLD.sys_start > t THEN
        {_too_early(names, "OLD", "OLD.sys_start")}
    END IF;
{_same_instant_guard(names, "OLD")}    RETURN OLD;
END
$fn$"""


def after_delete_function(names: TemporalNames) -> str:
    return f"""CREATE OR REPLACE FUNCTION {names.function("after_delete")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := {SYSTEM_TIME_CALL};
BEGIN
{_rewrite_guard("NULL")}{_write_closed_versions(names)}
    RETURN NULL;
END
$fn$"""


def after_insert_function(names: TemporalNames) -> str:
    """Statement-level check of the user's inserts (the framework's own are marked and skipped).

    One set-based pass over the inserted rows: no per-row PL/pgSQL on bulk loads. It runs
    after the unique-index waits and, under READ COMMITTED, with a fresh snapshot, so it
    sees a concurrent transaction's close of the same key.
    """
    join = " AND ".join(f"h.{quote(k)} = n.{quote(k)}" for k in names.keys)
    return f"""CREATE OR REPLACE FUNCTION {names.function("after_insert")}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := {SYSTEM_TIME_CALL};
    bad record;
BEGIN
{_rewrite_guard("NULL")}    IF current_setting('{INTERNAL_SETTING}', true) = 'on' THEN
        RETURN NULL;  -- closed versions written by the UPDATE/DELETE triggers
    END IF;
    IF current_setting('transaction_isolation') NOT IN ('read committed', 'read uncommitted')
    THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('{names.display_literal}: INSERT into a temporal table needs READ '
                'COMMITTED; this transaction is %s', current_setting('transaction_isolation')),
            HINT = 'Under a snapshot isolation a concurrent close of the same key would be '
                'invisible and versions could overlap. Insert in a READ COMMITTED transaction.';
    END IF;
    SELECT * INTO bad FROM new_rows AS n
    WHERE n.sys_start <> t OR n.sys_end <> 'infinity' LIMIT 1;
    IF FOUND THEN
        {_managed_columns_error(names, "INSERT")}
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
{_rewrite_guard("NULL")}    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = '{names.display_literal} is a temporal table: TRUNCATE would erase its history',
        HINT = 'If you mean it: BEGIN; SET LOCAL {REWRITE_SETTING} = on; TRUNCATE ...; COMMIT;';
END
$fn$"""


TRIGGER_FUNCTIONS = {
    "before_update": before_update_function,
    "after_update": after_update_function,
    "before_delete": before_delete_function,
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
    "versioning_a_skip_noop",
    "versioning_b_check_update",
    "versioning_c_stamp",
    "versioning_c_stamp_at",
    "versioning_after_update",
    "versioning_b_check_delete",
    "versioning_after_delete",
    "versioning_after_insert",
    "versioning_refuse_truncate",
)
# Names earlier versions of the framework gave triggers since renamed (their WHEN clauses
# changed, and the build compares triggers by name): dropped where found.
OBSOLETE_TRIGGER_NAMES = ("versioning_before_update", "versioning_before_delete")


# The statement triggers, name: (event, transition table, trigger function suffix)
STATEMENT_TRIGGERS = {
    "versioning_after_update": ("AFTER UPDATE", "OLD TABLE AS old_rows", "after_update"),
    "versioning_after_delete": ("AFTER DELETE", "OLD TABLE AS old_rows", "after_delete"),
    "versioning_after_insert": ("AFTER INSERT", "NEW TABLE AS new_rows", "after_insert"),
    "versioning_refuse_truncate": ("BEFORE TRUNCATE", "", "refuse_truncate"),
}


def triggers(names: TemporalNames) -> dict[str, str]:
    """``{schema.table.trigger: CREATE TRIGGER}``; trigger names are per table, unprefixed.

    BEFORE row triggers fire in name order (a WHEN clause sees the row as the triggers
    before it left it): skip the no-op, check the rows that need it, stamp.
    """
    table, fn = names.table, names.function
    statements = [
        f"CREATE TRIGGER versioning_a_skip_noop BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        f"CREATE TRIGGER versioning_b_check_update BEFORE UPDATE ON {table} "
        f"FOR EACH ROW WHEN ({update_needs_check(names)}) "
        f"EXECUTE FUNCTION {fn('before_update')}()",
        f"CREATE TRIGGER versioning_c_stamp BEFORE UPDATE ON {table} "
        f"FOR EACH ROW WHEN ({REWRITE_OFF} AND {SYSTEM_TIME_UNSET}) "
        f"EXECUTE FUNCTION {STAMP_VERSION}('sys_start')",
        f"CREATE TRIGGER versioning_c_stamp_at BEFORE UPDATE ON {table} "
        f"FOR EACH ROW WHEN ({REWRITE_OFF} AND NOT {SYSTEM_TIME_UNSET}) "
        f"EXECUTE FUNCTION {STAMP_VERSION_AT}()",
        _statement_trigger(names, table, "versioning_after_update"),
        f"CREATE TRIGGER versioning_b_check_delete BEFORE DELETE ON {table} "
        f"FOR EACH ROW WHEN ({delete_needs_check(names)}) "
        f"EXECUTE FUNCTION {fn('before_delete')}()",
        _statement_trigger(names, table, "versioning_after_delete"),
        _statement_trigger(names, table, "versioning_after_insert"),
        _statement_trigger(names, table, "versioning_refuse_truncate"),
    ]
    prefix = names.plain(names.table)
    named = {f"{prefix}.{name}": sql for name, sql in zip(TRIGGER_NAMES, statements, strict=True)}
    return named | partition_triggers(names)


def partition_triggers(names: TemporalNames) -> dict[str, str]:
    """The statement triggers of the partitioned layout's partitions.

    Row triggers on ``*_hist`` are cloned onto its partitions, statement triggers are not:
    they fire for the table a statement names. The current-state view names the current
    partition (see :func:`current_view`), so that partition carries the statement triggers
    that write closed versions and check inserts, with the same functions; both partitions
    refuse TRUNCATE. A statement on ``*_hist`` fires only ``*_hist``'s own, so no version
    is written twice.
    """
    return {
        f"{names.plain(table)}.{name}": _statement_trigger(names, table, name)
        for table, name in partition_trigger_targets(names)
    }


def _statement_trigger(names: TemporalNames, table: str, name: str) -> str:
    """CREATE TRIGGER for one of the statement triggers, on ``*_hist`` or a partition."""
    event, transition, function = STATEMENT_TRIGGERS[name]
    referencing = f"REFERENCING {transition} " if transition else ""
    return (
        f"CREATE TRIGGER {name} {event} ON {table} {referencing}"
        f"FOR EACH STATEMENT EXECUTE FUNCTION {names.function(function)}()"
    )


def partition_trigger_targets(names: TemporalNames) -> list[tuple[str, str]]:
    """(partition, trigger name) of each partition's own trigger; none when unpartitioned."""
    if not names.partitioned:
        return []
    current = [(names.current_partition, name) for name in STATEMENT_TRIGGERS]
    return [*current, (names.closed_partition, "versioning_refuse_truncate")]


def constraints(names: TemporalNames) -> list[str]:
    """The period check and, unless the key already ends in sys_end, one current row per key."""
    period = (
        f"ALTER TABLE {names.table} ADD CONSTRAINT {quote(names.period_check)} "
        "CHECK (sys_start < sys_end)"
    )
    return [period, *current_key_index(names)]


def current_key_index(names: TemporalNames) -> list[str]:
    """One current row per key, when the primary key does not already say so."""
    if names.key_column == "sys_end":
        return []
    return [
        f"CREATE UNIQUE INDEX {quote(names.current_index)} ON {names.table} "
        f"({_cols(names.keys)}) WHERE sys_end = 'infinity'"
    ]


def partitions(names: TemporalNames) -> list[str]:
    """The two partitions of a partitioned ``*_hist``: current rows (``sys_end`` infinity,
    with room on each page for in-place updates) and closed versions."""
    if not names.partitioned:
        return []
    return [
        f"CREATE TABLE {names.current_partition} PARTITION OF {names.table}\n"
        "FOR VALUES FROM ('infinity') TO (MAXVALUE) WITH (fillfactor = 90)",
        f"CREATE TABLE {names.closed_partition} PARTITION OF {names.table}\n"
        "FOR VALUES FROM (MINVALUE) TO ('infinity')",
    ]


def current_view(names: TemporalNames) -> dict[str, str]:
    """The current versions. In the partitioned layout the view names the current
    partition itself: a write through it plans and runs on one plain table (no partition
    routing), and reads need no pruning; its bound keeps only current rows there."""
    source = (
        f"FROM {names.current_partition}"
        if names.partitioned
        else f"FROM {names.table}\nWHERE sys_end = 'infinity'"
    )
    sql = (
        f"CREATE OR REPLACE VIEW {qualified(names.schema, names.view)} AS\n"
        f"SELECT {_cols(names.columns)}, sys_start\n"
        f"{source}"
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

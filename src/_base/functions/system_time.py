"""The framework schema and its system-time helpers, installed once per database.

``medallion.system_time()`` is the instant every version change uses: the transaction's
start (``now()``), unless a replay or backfill set a past time for the current
transaction (never longer)::

    BEGIN;
    SELECT medallion.set_system_time('2026-11-20 00:00+00');
    -- loads here version rows "as of" 2026-11-20
    COMMIT;

Changes at one system time collapse into one version. Without ``set_system_time`` that
holds within one transaction only: two transactions can start in the same microsecond,
and a version another transaction committed at this transaction's instant is never
overwritten (the change fails with SQLSTATE 40001; the retry runs at a later instant).
``set_system_time`` also claims the time for a replay: rerunning a day in a new
transaction rewrites the versions an earlier run of that day opened at the same time.
"""

from __future__ import annotations

from src._base.naming import literal

FRAMEWORK_SCHEMA = "medallion"
SYSTEM_TIME_SETTING = "medallion.system_time"
# Set to 'on' to TRUNCATE temporal tables or delete closed versions (retention, repairs);
# honoured for the table's owner (and members of the owning role) only.
REWRITE_SETTING = "medallion.allow_history_rewrite"
# Set transaction-locally while the framework's own triggers write closed versions.
INTERNAL_SETTING = "medallion.versioning_internal"
# 'on' while a transaction replays at a time set by set_system_time(): it may then rewrite
# versions that other transactions opened at that same time (idempotent replays).
REPLAY_SETTING = "medallion.system_time_replay"
SYSTEM_TIME_CALL = f"{FRAMEWORK_SCHEMA}.system_time()"
# Its body: written out where the planner would inline the function for every statement
# (a trigger's WHEN clause), which parses the function's SQL each time.
SYSTEM_TIME_EXPR = (
    f"coalesce(nullif(current_setting('{SYSTEM_TIME_SETTING}', true), '')::timestamptz, now())"
)
SET_SYSTEM_TIME = f"{FRAMEWORK_SCHEMA}.set_system_time"
STAMP_VERSION = f"{FRAMEWORK_SCHEMA}.stamp_version"
STAMP_VERSION_AT = f"{FRAMEWORK_SCHEMA}.stamp_version_at"
# True while no replay or backfill set a time: the system time is now().
SYSTEM_TIME_UNSET = f"coalesce(current_setting('{SYSTEM_TIME_SETTING}', true), '') = ''"
WRITTEN_HERE = f"{FRAMEWORK_SCHEMA}.written_by_this_transaction"


def framework_ddl() -> list[str]:
    """Statements creating the framework schema and helpers; safe to run repeatedly."""
    from src._base.functions.keys import uuid_v7_ddl  # these name this module's schema
    from src._base.functions.load_log import load_log_ddl

    return [
        f"CREATE SCHEMA IF NOT EXISTS {FRAMEWORK_SCHEMA}",
        f"""CREATE OR REPLACE FUNCTION {FRAMEWORK_SCHEMA}.system_time() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT {SYSTEM_TIME_EXPR}
$fn$""",
        # An earlier signature had a for_session flag: a session-wide time made later
        # transactions look like one, so that overload must not survive an upgrade.
        f"DROP FUNCTION IF EXISTS {FRAMEWORK_SCHEMA}.set_system_time(timestamptz, boolean)",
        f"""CREATE OR REPLACE FUNCTION {FRAMEWORK_SCHEMA}.set_system_time(at_time timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    IF at_time IS NULL OR NOT isfinite(at_time) OR at_time > clock_timestamp() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('system time %s is not a finite time in the past', at_time),
            HINT = 'Replays and backfills set a past time; leave it unset to use now().';
    END IF;
    -- Kept as UTC ISO 8601, which reads back the same whatever TimeZone and DateStyle.
    PERFORM set_config('{SYSTEM_TIME_SETTING}',
        to_char(at_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), true);
    PERFORM set_config('{REPLAY_SETTING}', 'on', true);
    RETURN at_time;
END
$fn$""",
        f"""CREATE OR REPLACE FUNCTION {FRAMEWORK_SCHEMA}.clear_system_time() RETURNS void
LANGUAGE sql VOLATILE AS $fn$
    SELECT set_config('{REPLAY_SETTING}', '', false);
    SELECT set_config('{SYSTEM_TIME_SETTING}', '', false)
$fn$""",
        written_here_ddl(),
        *stamp_version_ddl(),
        uuid_v7_ddl(),
        f"""COMMENT ON FUNCTION {FRAMEWORK_SCHEMA}.system_time() IS
'The instant version changes use: now(), or the time set by {SET_SYSTEM_TIME}()'""",
        *load_log_ddl(),
    ]


def written_here_ddl() -> str:
    """``written_by_this_transaction(xmin)``: was this row version written by the current
    transaction or one of its subtransactions?

    A visible row whose writer is still in progress can only be this transaction's own
    (another transaction's uncommitted rows are invisible), so the test is the writer's
    status. ``xmin`` is 32 bits: it is widened to a full id relative to this transaction's
    own id (live ids are within 2^31 of each other); frozen rows (xmin 2) are nobody's.
    """
    return f"""CREATE OR REPLACE FUNCTION {WRITTEN_HERE}(row_xmin xid) RETURNS boolean
LANGUAGE sql VOLATILE AS $fn$
    SELECT row_xmin::text::bigint > 2 AND pg_xact_status((
        x.top + (row_xmin::text::bigint - x.top % 4294967296 + 6442450944) % 4294967296
        - 2147483648)::text::xid8) = 'in progress'
    FROM (SELECT pg_current_xact_id()::text::bigint AS top) AS x
$fn$"""


def stamp_version_ddl() -> list[str]:
    """The two stamps of an updated current row: its new version starts at the system time.

    An ordinary update (no time set) goes through ``stamp_version('sys_start')``, the only
    per-row function of a plain update (checks run in a trigger whose WHEN clause lets
    through only the rows that need them). It is PostgreSQL's own ``moddatetime`` trigger
    (C, shipped with the server as a contrib module; it writes ``now()``, the system time
    when none is set) when the role may create a C function and the server has the
    module; otherwise, or where a non-superuser builds, one line of PL/pgSQL. The C
    function is never downgraded. Updates at a time set by ``set_system_time`` go through
    ``stamp_version_at()``. The triggers are the same either way.
    """
    plpgsql = _plpgsql_stamp(STAMP_VERSION)
    choose = f"""DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
               WHERE p.oid = to_regprocedure('{STAMP_VERSION}()') AND l.lanname = 'c') THEN
        RETURN;
    END IF;
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        BEGIN
            CREATE OR REPLACE FUNCTION {STAMP_VERSION}() RETURNS trigger
            LANGUAGE c AS '$libdir/moddatetime', 'moddatetime';
            RETURN;
        EXCEPTION WHEN undefined_file OR undefined_function THEN
            NULL;  -- a server built without contrib: the PL/pgSQL stamp below
        END;
    END IF;
    EXECUTE {literal(plpgsql)};
END
$do$"""
    return [choose, _plpgsql_stamp(STAMP_VERSION_AT)]


def _plpgsql_stamp(name: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.sys_start := {SYSTEM_TIME_CALL};
    RETURN NEW;
END
$fn$"""

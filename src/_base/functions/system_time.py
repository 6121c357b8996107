"""The framework schema and its system-time helpers, installed once per database.

``medallion.system_time()`` is the instant every version change uses: the transaction's
start (``now()``), unless a replay or backfill set it for the current transaction::

    BEGIN;
    SELECT medallion.set_system_time('2026-11-20 00:00+00');
    -- loads here version rows "as of" 2026-11-20
    COMMIT;
"""

from __future__ import annotations

FRAMEWORK_SCHEMA = "medallion"
SYSTEM_TIME_SETTING = "medallion.system_time"
# Set to 'on' to TRUNCATE temporal tables or delete closed versions (retention, repairs).
REWRITE_SETTING = "medallion.allow_history_rewrite"
SYSTEM_TIME_CALL = f"{FRAMEWORK_SCHEMA}.system_time()"
SET_SYSTEM_TIME = f"{FRAMEWORK_SCHEMA}.set_system_time"


def framework_ddl() -> list[str]:
    """Statements creating the framework schema and helpers; safe to run repeatedly."""
    return [
        f"CREATE SCHEMA IF NOT EXISTS {FRAMEWORK_SCHEMA}",
        f"""CREATE OR REPLACE FUNCTION {FRAMEWORK_SCHEMA}.system_time() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT coalesce(nullif(current_setting('{SYSTEM_TIME_SETTING}', true), '')::timestamptz, now())
$fn$""",
        f"""CREATE OR REPLACE FUNCTION {FRAMEWORK_SCHEMA}.set_system_time(
    at_time timestamptz, for_session boolean DEFAULT false
) RETURNS timestamptz
LANGUAGE sql VOLATILE AS $fn$
    SELECT set_config('{SYSTEM_TIME_SETTING}', at_time::text, NOT for_session)::timestamptz
$fn$""",
        f"""CREATE OR REPLACE FUNCTION {FRAMEWORK_SCHEMA}.clear_system_time() RETURNS void
LANGUAGE sql VOLATILE AS $fn$
    SELECT set_config('{SYSTEM_TIME_SETTING}', '', false)
$fn$""",
        f"""COMMENT ON FUNCTION {FRAMEWORK_SCHEMA}.system_time() IS
'The instant version changes use: now(), or the time set by {SET_SYSTEM_TIME}()'""",
    ]

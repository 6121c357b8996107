"""``medallion.load_log``: one row per (job, logical date), the commit marker of a load.

A load is published when its row says ``succeeded``; downstream jobs read only batches
whose row says so. Rows a crashed load left behind are removed by the next attempt.
"""

from __future__ import annotations

from src._base.functions.system_time import FRAMEWORK_SCHEMA

LOAD_LOG = f"{FRAMEWORK_SCHEMA}.load_log"


def load_log_ddl() -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {LOAD_LOG} (
    job text NOT NULL,
    logical_date date NOT NULL,
    batch_id uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 1,
    rows_read bigint,
    rows_written bigint,
    rows_rejected bigint,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    message text,
    accepted text,
    PRIMARY KEY (job, logical_date)
)""",
        # what a load accepted that a complete day would not have (a partial day, files
        # missing): NULL for a complete load; warehouses built before it get the column
        f"ALTER TABLE {LOAD_LOG} ADD COLUMN IF NOT EXISTS accepted text",
        f"""COMMENT ON TABLE {LOAD_LOG} IS
'One row per load and logical date; status succeeded marks the batch as published'""",
    ]

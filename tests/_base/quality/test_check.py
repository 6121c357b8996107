"""Quality rules on a real server: each kind finds its violations, counts them and shows
sample keys; ``warn`` rules never stop a run, ``fail`` rules do, naming rule and count."""

from __future__ import annotations

from datetime import date

import pytest

from src._base.quality.check import QualityCheckFailed, enforce, run_rules
from src._base.quality.rules import (
    AcceptedValues,
    ControlTotal,
    Freshness,
    KpiBounds,
    NotNull,
    ReferentialIntegrity,
    RowCondition,
    RowCountDelta,
    Unique,
)
from src.utils.connections import connect_raw

pytestmark = pytest.mark.postgres

DAY = date(2026, 11, 20)
SETUP = """
CREATE TABLE ref (code text PRIMARY KEY);
INSERT INTO ref VALUES ('A'), ('B');
CREATE TABLE t (id int, day date, code text, qty numeric, loaded timestamptz);
INSERT INTO t VALUES
  (1, '2026-11-20', 'A', 10, now()), (2, '2026-11-20', 'B', NULL, now()),
  (3, '2026-11-20', 'Z', 5, now()), (3, '2026-11-20', 'A', -1, now()),
  (4, '2026-11-19', 'A', 1, now() - interval '3 days');
"""


@pytest.fixture
def conn(pg_database):
    raw = connect_raw(pg_database)
    with raw, raw.cursor() as cur:
        cur.execute(SETUP)
    raw.close()
    return pg_database


def outcome(conn, rule) -> tuple[int, tuple[str, ...]]:
    [result] = run_rules(conn, [rule], DAY)
    return result.failing, result.samples


TODAY = "day = %(day)s"
AVG_QTY = "SELECT avg(qty) FROM t WHERE day = %(day)s"


@pytest.mark.parametrize(
    ("rule", "failing", "samples"),
    [
        (NotNull("t", ("code", "qty"), key="id", where=TODAY), 1, ("2",)),
        (Unique("t", ("id",), where=TODAY), 1, ("3",)),
        (AcceptedValues("t", "code", ("A", "B"), key="id", where=TODAY), 1, ("3",)),
        (ReferentialIntegrity("t", "code", "ref.code", where=TODAY), 1, ("Z",)),
        (RowCondition("positive", "t", "qty > 0", key="id", where=TODAY), 2, ("2", "3")),
        (RowCountDelta("t", "day", tolerance=0.5), 1, ("today 4", "baseline 1")),
        (RowCountDelta("t", "day", tolerance=3.0), 0, ("today 4", "baseline 1")),
        (ControlTotal("rows", "SELECT count(*) FROM t", "SELECT 5"), 0, ("left 5", "right 5")),
        (ControlTotal("qty", "SELECT sum(qty) FROM t", "SELECT 14"), 1, ("left 15", "right 14")),
        (Freshness("t", "loaded", "1 hour", where="day = %(prev)s"), 1, None),
        (Freshness("t", "loaded", "1 hour", where=TODAY), 0, None),
        (KpiBounds("avg qty", AVG_QTY, low=0, high=3), 1, ("value 4.6666666666666667",)),
        (KpiBounds("rows", "SELECT count(*) FROM t", low=1), 0, ("value 5",)),
    ],
)
def test_each_rule_counts_its_violations_and_shows_samples(conn, rule, failing, samples) -> None:
    got_failing, got_samples = outcome(conn, rule)
    assert got_failing == failing
    if samples is not None:
        assert got_samples == samples


def test_fail_rules_stop_the_run_naming_rule_and_count_warn_rules_do_not(conn) -> None:
    rules = [
        NotNull("t", ("qty",), key="id", where=TODAY, severity="warn"),
        AcceptedValues("t", "code", ("A", "B"), key="id", where=TODAY),
        Unique("ref", ("code",)),
    ]
    results = run_rules(conn, rules, DAY)
    assert [r.passed for r in results] == [False, False, True]
    enforce("dq_t_warn_only", DAY, results[:1])  # warnings alone pass
    with pytest.raises(QualityCheckFailed) as error:
        enforce("dq_t_codes", DAY, results)
    assert str(error.value) == (
        "dq_t_codes for 2026-11-20: 1 rule(s) failed: "
        "FAIL accepted_values(t.code): 1 failing (e.g. 3)"
    )

"""Gold keeps its own history: reported figures are reproducible, restatements explicit,
and the day-over-day positions equal a full recomputation.

Four generated days run on the postgres engine (each day brings late amendments of the
day before). The oracle below recomputes positions and values from every silver trade
as known at a given time, independently of the transforms' base-plus-changes method.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import run_transforms
from src._base.pipeline.run_config import RunConfig
from src.config import SRC_PATH, ConnectionSettings
from src.demo.generator import SourceSpec
from src.utils.connections import connect_raw
from src.utils.errors import PipelineError
from tests.demo.conftest import DemoEnv, demo_databases, load_days
from tests.demo.transforms.expected import query

DAYS = tuple(date(2026, 11, 16) + timedelta(days=n) for n in range(4))
SPEC = SourceSpec(seed=11, instruments=10, portfolios=5, trades=300)
GOLD = load_catalogue(SRC_PATH, "demo").select(layers=["gold"])


@pytest.fixture(scope="module")
def env(pg_server: ConnectionSettings, tmp_path_factory) -> Iterator[DemoEnv]:
    with demo_databases(pg_server, tmp_path_factory.mktemp("landing")) as demo:
        load_days(demo, DAYS, SPEC)
        yield demo


def cfg(env: DemoEnv, day: date, restated_at: datetime | None = None) -> RunConfig:
    return replace(env.config(day), engine="postgres", restated_at=restated_at)


def full_positions(env: DemoEnv, day: date, known_at: datetime) -> pd.DataFrame:
    """Every trade placed up to ``day`` as known at ``known_at``, summed from scratch."""
    return query(
        env.warehouse,
        """WITH q AS (
  SELECT h.portfolio_code, h.instrument_code, sum(a.position_sign * h.filled_quantity) AS qty
  FROM silver.trade_status__as_of(%(t)s) h JOIN silver.trade t USING (trade_id)
  JOIN common.action_type a ON a.action_type_id = h.action_type_id
  WHERE t.trade_date <= %(d)s GROUP BY 1, 2)
SELECT q.portfolio_code, q.instrument_code, q.qty AS quantity,
  (SELECT b.close FROM gold.daily_bar__as_of(%(t)s) b WHERE b.instrument_code = q.instrument_code
     AND b.business_date <= %(d)s ORDER BY b.business_date DESC LIMIT 1) AS close_price
FROM q WHERE q.qty <> 0 ORDER BY 1, 2""",
        {"t": known_at, "d": day},
    )


def gold_positions(env: DemoEnv, day: date, known_at: datetime | None = None) -> pd.DataFrame:
    """Gold's positions for ``day``: the latest, or as reported at ``known_at``."""
    source = "gold.position_eod" if known_at is None else "gold.position_eod__as_of(%(t)s)"
    return query(
        env.warehouse,
        f"SELECT portfolio_code, instrument_code, quantity, close_price FROM {source}"
        " WHERE business_date = %(d)s ORDER BY 1, 2",
        {"t": known_at, "d": day},
    )


def full_values(env: DemoEnv, day: date, known_at: datetime) -> pd.DataFrame:
    """Value per portfolio and currency at ``day`` and the day before, both as known at
    ``known_at``, and the day's trade cash: from scratch."""
    frame = query(
        env.warehouse,
        """WITH pos AS (
  SELECT d.d, h.portfolio_code, h.instrument_code, sum(a.position_sign * h.filled_quantity) AS qty
  FROM (VALUES (%(d)s::date), (%(d)s::date - 1)) d(d)
  JOIN silver.trade t ON t.trade_date <= d.d
  JOIN silver.trade_status__as_of(%(t)s) h USING (trade_id)
  JOIN common.action_type a ON a.action_type_id = h.action_type_id
  GROUP BY 1, 2, 3),
valued AS (
  SELECT pos.*, c.iso_code AS currency_code, pos.qty * coalesce((SELECT b.close
      FROM gold.daily_bar__as_of(%(t)s) b WHERE b.instrument_code = pos.instrument_code
      AND b.business_date <= pos.d ORDER BY b.business_date DESC LIMIT 1), 0) AS mv
  FROM pos JOIN silver.instrument__as_of(%(t)s) i USING (instrument_code)
  JOIN common.currency_type c USING (currency_type_id)),
cash AS (
  SELECT h.portfolio_code, c.iso_code AS currency_code,
         sum(a.position_sign * h.filled_quantity * h.price) AS cash
  FROM silver.trade t JOIN silver.trade_status__as_of(%(t)s) h USING (trade_id)
  JOIN common.action_type a ON a.action_type_id = h.action_type_id
  JOIN silver.instrument__as_of(%(t)s) i ON i.instrument_code = h.instrument_code
  JOIN common.currency_type c USING (currency_type_id)
  WHERE t.trade_date = %(d)s GROUP BY 1, 2)
SELECT v.portfolio_code, v.currency_code,
  count(*) FILTER (WHERE v.d = %(d)s AND v.qty <> 0) AS positions,
  round(coalesce(sum(v.mv) FILTER (WHERE v.d = %(d)s), 0), 6) AS market_value,
  round(coalesce(sum(v.mv) FILTER (WHERE v.d < %(d)s), 0), 6) AS prev_market_value,
  round(coalesce(max(c.cash), 0), 6) AS net_trade_cash
FROM valued v LEFT JOIN cash c USING (portfolio_code, currency_code)
GROUP BY 1, 2 ORDER BY 1, 2""",
        {"t": known_at, "d": day},
    )
    return _without_empty_rows(frame)


def gold_values(env: DemoEnv, day: date) -> pd.DataFrame:
    frame = query(
        env.warehouse,
        "SELECT portfolio_code, currency_code, positions, market_value, prev_market_value,"
        " net_trade_cash FROM gold.portfolio_value_daily WHERE business_date = %s ORDER BY 1, 2",
        (day,),
    )
    return _without_empty_rows(frame)


def _without_empty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of portfolios with nothing held on either day and no cash carry no figure."""
    numbers = ["positions", "market_value", "prev_market_value", "net_trade_cash"]
    frame = frame[(frame[numbers] != 0).any(axis=1)].reset_index(drop=True)
    frame["positions"] = frame["positions"].astype(int)
    for column in numbers[1:]:
        frame[column] = frame[column].map(lambda v: Decimal(v).quantize(Decimal("0.000001")))
    return frame


def system_time(day: date) -> datetime:
    return RunConfig(day, None, None, None).system_time  # type: ignore[arg-type]


def gold_history(env: DemoEnv) -> dict[str, pd.DataFrame]:
    tables = ("position_eod_hist", "portfolio_value_daily_hist", "trade_kpi_daily_hist",
              "daily_bar_hist")  # fmt: skip
    return {t: query(env.warehouse, f"SELECT * FROM gold.{t} ORDER BY 1, 2, 3") for t in tables}


def test_the_days_include_late_amendments_of_earlier_days(env: DemoEnv) -> None:
    """What makes the rest meaningful: versions of a day's trades that later days closed."""
    late = query(
        env.warehouse,
        "SELECT count(*) AS n FROM silver.trade_status_hist h JOIN silver.trade t USING"
        " (trade_id) WHERE h.sys_end <> 'infinity' AND h.sys_end > %s AND t.trade_date = %s",
        (system_time(DAYS[0]), DAYS[0]),
    ).n[0]
    assert late > 0


@pytest.mark.parametrize("day", DAYS)
def test_positions_from_the_previous_day_equal_a_full_recomputation(
    env: DemoEnv, day: date
) -> None:
    expected = full_positions(env, day, system_time(day))
    assert len(expected) > 0
    pd.testing.assert_frame_equal(gold_positions(env, day), expected, check_dtype=False)


@pytest.mark.parametrize("day", DAYS[1:])
def test_values_and_pnl_equal_a_full_recomputation(env: DemoEnv, day: date) -> None:
    pd.testing.assert_frame_equal(
        gold_values(env, day), full_values(env, day, system_time(day)), check_dtype=False
    )


def test_a_rerun_changes_nothing_and_a_restatement_keeps_the_reported_version(
    env: DemoEnv,
) -> None:
    first = DAYS[0]
    reported = gold_positions(env, first)
    before = gold_history(env)
    run_transforms(None, cfg(env, first), GOLD)
    for table, frame in gold_history(env).items():
        pd.testing.assert_frame_equal(frame, before[table], obj=table)

    restated_at = datetime.now(UTC)
    run_transforms(None, cfg(env, first, restated_at), GOLD)
    restated = gold_positions(env, first)
    # The late amendments the following days brought now count; what was reported stays
    # readable as of the date's system time.
    assert not restated.equals(reported)
    pd.testing.assert_frame_equal(restated, full_positions(env, first, restated_at),
                                  check_dtype=False)  # fmt: skip
    pd.testing.assert_frame_equal(gold_positions(env, first, system_time(first)), reported)
    known = query(env.warehouse, "SELECT DISTINCT known_at FROM gold.position_eod"
                  " WHERE business_date = %s", (first,)).known_at  # fmt: skip
    assert list(known) == [pd.Timestamp(restated_at)]

    # Later days still read the reported figures they were computed from: a plain rerun
    # of the whole range, restated day included, changes nothing.
    after = gold_history(env)
    for day in DAYS:
        run_transforms(None, cfg(env, day), GOLD)
    for table, frame in gold_history(env).items():
        pd.testing.assert_frame_equal(frame, after[table], obj=table)


def test_restating_the_last_day_starts_from_the_restated_previous_day(env: DemoEnv) -> None:
    """A restatement of day N reads day N-1 as known now (restated or not) and the
    changes since: it equals a full recomputation as known now."""
    last = DAYS[-1]
    restated_at = datetime.now(UTC)
    run_transforms(None, cfg(env, last, restated_at), GOLD)
    expected = full_positions(env, last, restated_at)
    pd.testing.assert_frame_equal(gold_positions(env, last), expected, check_dtype=False)


def test_a_restatement_before_the_date_has_closed_is_refused(env: DemoEnv) -> None:
    early = system_time(DAYS[1]) - timedelta(hours=1)
    with pytest.raises(PipelineError, match=r"cannot restate 2026-11-17 .* before or at the "
                       r"date's own system time .* Run it without --restate"):  # fmt: skip
        run_transforms(None, cfg(env, DAYS[1], early), GOLD)


def nudge_reported_fills(env: DemoEnv, day: date, by: int) -> None:
    """Rewrite silver's history by hand: the fills of ``day``'s trades as reported then."""
    raw = connect_raw(env.warehouse)
    try:
        with raw.cursor() as cur:
            cur.execute("SET LOCAL medallion.allow_history_rewrite = on")
            cur.execute(
                "UPDATE silver.trade_status_hist h SET filled_quantity = h.filled_quantity + %s"
                " FROM silver.trade t WHERE t.trade_id = h.trade_id AND t.trade_date = %s"
                " AND h.sys_start <= %s AND h.sys_end > %s AND h.filled_quantity > 0",
                (by, day, system_time(day), system_time(day)),
            )
        raw.commit()
    finally:
        raw.close()


def test_a_plain_rerun_that_would_change_a_restated_dates_reported_figures_fails(
    env: DemoEnv,
) -> None:
    """Silver history rewritten by hand under a restated date: the reported version can
    no longer be reproduced, and the run says so instead of rewriting it."""
    first = DAYS[0]
    run_transforms(None, cfg(env, first, datetime.now(UTC)), GOLD)
    before = gold_history(env)
    position = [t for t in GOLD if t.name == "position_to_gold"]
    nudge_reported_fills(env, first, 1)
    try:
        with pytest.raises(PipelineError, match=r"position_to_gold: gold.position_eod_hist for "
                           r"2026-11-16 was restated at .*Rerun with --restate"):  # fmt: skip
            run_transforms(None, cfg(env, first), position)
        pd.testing.assert_frame_equal(gold_history(env)["position_eod_hist"],
                                      before["position_eod_hist"])  # fmt: skip
    finally:
        nudge_reported_fills(env, first, -1)  # silver as it was, for the other tests

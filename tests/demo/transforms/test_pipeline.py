"""The demo pipeline end to end on generated data: two days, bronze → silver → gold.

Gold is checked against an independent computation over the sources (``expected.py``),
layers are reconciled by counts and amount totals, and reruns must change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.claims import LoadInProgress, claim_load
from src._base.pipeline.daily import run_transforms
from src._base.pipeline.run_config import RunConfig
from src.config import SRC_PATH, ConnectionSettings
from src.demo.generator import GeneratedDay, SourceSpec, generate_day
from src.utils.errors import PipelineError
from tests.demo.conftest import DemoEnv, demo_databases, warehouse_fingerprint
from tests.demo.transforms import expected
from tests.demo.transforms.expected import query

DAYS = (date(2026, 11, 19), date(2026, 11, 20))
SPEC = SourceSpec(seed=7, instruments=12, portfolios=6, trades=400)


@dataclass
class Loaded:
    env: DemoEnv
    generated: dict[date, GeneratedDay] = field(default_factory=dict)
    known: dict[date, set[str]] = field(default_factory=dict)  # instruments known by day
    currency: dict[str, str] = field(default_factory=dict)
    portfolios: set[str] = field(default_factory=set)
    gold_after_first_day: pd.DataFrame | None = None

    def cfg(self, day: date) -> RunConfig:
        return self.env.config(day)


@pytest.fixture(scope="module")
def loaded(pg_server: ConnectionSettings, spark, tmp_path_factory) -> Iterator[Loaded]:
    with demo_databases(pg_server, tmp_path_factory.mktemp("landing")) as env:
        state = Loaded(env)
        transforms = load_catalogue(SRC_PATH, "demo").entries
        known: set[str] = set()
        for day in DAYS:
            state.generated[day] = generate_day(env.source, env.landing, day, SPEC)
            snapshot = query(env.source, "SELECT * FROM ops.instrument")
            instruments = expected.valid_instruments(snapshot)
            known |= set(instruments)
            state.currency.update(instruments)
            state.known[day] = set(known)
            ports = query(env.source, "SELECT * FROM ops.portfolio")
            state.portfolios |= set(ports.portfolio_code[ports.base_currency.notna()])
            run_transforms(spark, state.cfg(day), transforms)
            if day == DAYS[0]:
                state.gold_after_first_day = gold_positions(env.warehouse, day)
        yield state


def gold_positions(conn: ConnectionSettings, day: date) -> pd.DataFrame:
    return query(
        conn,
        "SELECT portfolio_code, instrument_code, quantity::float AS quantity, market_value"
        " FROM gold.position_eod WHERE business_date = %s"
        " ORDER BY portfolio_code, instrument_code",
        (day,),
    )


def source_events(loaded: Loaded, last: date) -> pd.DataFrame:
    events = query(
        loaded.env.source,
        "SELECT *, quantity::float AS q, price::float AS p FROM ops.trade_event"
        " WHERE recorded_date <= %s",
        (last,),
    )
    for column in ("quantity", "filled_quantity", "price"):
        events[column] = events[column].astype(float)
    return events


def expected_trades(loaded: Loaded, last: date) -> pd.DataFrame:
    valid = expected.valid_events(source_events(loaded, last), loaded.known, loaded.portfolios)
    return expected.trades_as_of(valid)


def book_value(loaded: Loaded, trades, closes, day: date, key: tuple[str, str]) -> float:
    """Market value of one portfolio's positions in one currency at ``day``'s close (the
    latest close up to the day; 0 with none)."""
    total = 0.0
    for (portfolio, instrument), qty in expected.positions(trades, day).items():
        if (portfolio, loaded.currency[instrument]) == key:
            close = next(
                (
                    closes[d][instrument]
                    for d in sorted(closes, reverse=True)
                    if d <= day and instrument in closes[d]
                ),
                0.0,
            )
            total += qty * close
    return total


def test_gold_positions_match_an_independent_computation(loaded: Loaded) -> None:
    day = DAYS[-1]
    want = expected.positions(expected_trades(loaded, day), day)
    got = gold_positions(loaded.env.warehouse, day).set_index(["portfolio_code", "instrument_code"])
    assert len(want) > 10
    assert dict(got.quantity) == pytest.approx(dict(want))


def test_gold_daily_bars_match_the_parquet_files(loaded: Loaded) -> None:
    day = DAYS[-1]
    want = expected.daily_bars(loaded.env.landing, day, loaded.known[day])
    got = query(
        loaded.env.warehouse,
        "SELECT instrument_code AS symbol, open::float, high::float, low::float, close::float,"
        " volume, bar_count"
        " FROM gold.daily_bar WHERE business_date = %s",
        (day,),
    ).set_index("symbol")
    assert sorted(got.index) == sorted(want.index)
    for column in want.columns:
        assert dict(got[column]) == pytest.approx(dict(want[column])), column


@pytest.mark.parametrize(
    ("timeframe", "minutes"), [("5m", 5), ("15m", 15), ("1h", 60), ("1d", 1440)]
)
def test_gold_timeframe_bars_match_the_parquet_files(
    loaded: Loaded, timeframe: str, minutes: int
) -> None:
    day = DAYS[-1]
    want = expected.timeframe_bars(loaded.env.landing, day, loaded.known[day], minutes)
    got = query(
        loaded.env.warehouse,
        "SELECT instrument_code AS symbol, bar_time, open::float, high::float, low::float,"
        " close::float, volume, bar_count FROM gold.bar"
        " WHERE business_date = %s AND timeframe = %s",
        (day, timeframe),
    ).set_index(["symbol", "bar_time"])
    assert len(want) > 10 and sorted(got.index) == sorted(want.index)
    for column in want.columns:
        assert dict(got[column]) == pytest.approx(dict(want[column])), column


def test_gold_kpis_and_pnl_are_consistent_with_the_sources(loaded: Loaded) -> None:
    day, prev = DAYS[-1], DAYS[0]
    trades = expected_trades(loaded, day)
    today = trades[trades.trade_date == day]
    kpi = query(
        loaded.env.warehouse, "SELECT * FROM gold.trade_kpi_daily WHERE business_date = %s", (day,)
    )
    assert kpi.trades[0] == len(today)
    assert kpi.cancelled[0] == (today.status == "CANCELLED").sum()
    notional = (today.filled_quantity * today.price).sum()
    assert float(kpi.notional[0]) == pytest.approx(notional)  # exact NUMERIC(24, 6) in gold
    fill_rate = today.filled_quantity.sum() / today.quantity.sum()
    assert float(kpi.fill_rate[0]) == pytest.approx(fill_rate, abs=5e-7)  # NUMERIC(9, 6)

    closes = {d: expected.daily_bars(loaded.env.landing, d, loaded.known[d]).close for d in DAYS}
    values = query(
        loaded.env.warehouse,
        "SELECT * FROM gold.portfolio_value_daily WHERE business_date = %s",
        (day,),
    )
    for row in values.itertuples():
        key = (row.portfolio_code, row.currency_code)
        mv_today = book_value(loaded, trades, closes, day, key)
        mv_before = book_value(loaded, trades, closes, prev, key)
        mine = today[
            (today.portfolio_code == row.portfolio_code)
            & (today.instrument_code.map(loaded.currency) == row.currency_code)
        ]
        cash = (mine.sign * mine.filled_quantity * mine.price).sum()
        assert float(row.market_value) == pytest.approx(mv_today)
        assert float(row.net_trade_cash) == pytest.approx(cash)
        assert float(row.pnl) == pytest.approx(mv_today - mv_before - cash, abs=2e-6)


def test_layers_reconcile_by_count_and_amount_totals(loaded: Loaded) -> None:
    wh = loaded.env.warehouse
    for day in DAYS:
        source = query(
            loaded.env.source,
            "SELECT count(*) AS n, sum(quantity * price) AS amount FROM ops.trade_event"
            " WHERE recorded_date = %s",
            (day,),
        )
        bronze = query(
            wh,
            "SELECT count(*) AS n, sum(quantity * price) AS amount FROM bronze.br_trade"
            " WHERE logical_date = %s",
            (day,),
        )
        assert (bronze.n[0], bronze.amount[0]) == (source.n[0], source.amount[0])
        # every bronze event is either valid or quarantined, never both, never neither
        split = query(
            wh,
            """SELECT count(*) FILTER (WHERE q.record_key IS NULL) AS valid,
                      count(*) FILTER (WHERE q.record_key IS NOT NULL) AS rejected,
                      coalesce(sum(b.quantity * b.price) FILTER (WHERE q.record_key IS NULL), 0)
                    + coalesce(sum(b.quantity * b.price) FILTER (WHERE q.record_key IS NOT NULL), 0)
                      AS amount
               FROM bronze.br_trade b
               LEFT JOIN silver.quarantine q ON q.job = 'trade_to_silver'
                    AND q.logical_date = b.logical_date
                    AND (q.record ->> 'br_trade_id')::uuid = b.br_trade_id
               WHERE b.logical_date = %s""",
            (day,),
        )
        quarantined = query(
            wh,
            "SELECT count(*) AS n FROM silver.quarantine WHERE job = 'trade_to_silver'"
            " AND logical_date = %s",
            (day,),
        )
        assert split.valid[0] + split.rejected[0] == bronze.n[0]
        assert split.rejected[0] == quarantined.n[0] > 0
        assert split.amount[0] == bronze.amount[0]
    trades = query(
        wh, "SELECT count(*) AS n, sum(filled_quantity * price) AS notional FROM silver.trade"
    )
    want = expected_trades(loaded, DAYS[-1])
    assert trades.n[0] == len(want)
    assert float(trades.notional[0]) == pytest.approx((want.filled_quantity * want.price).sum())


RULES_FOR_ANOMALY = {
    "null_required": ("trade_to_silver", "required_field_null"),
    "unknown_instrument": ("trade_to_silver", "unknown_instrument"),
    "negative_quantity": ("trade_to_silver", "invalid_quantity"),
    "duplicate": ("trade_to_silver", "duplicate_event"),
    "bar_high_below_open_close": ("bar_to_silver", "ohlc_inconsistent"),
    "bar_negative_volume": ("bar_to_silver", "negative_volume"),
}


def test_quarantine_receives_each_kind_of_bad_record(loaded: Loaded) -> None:
    for day in DAYS:
        rules = query(
            loaded.env.warehouse,
            "SELECT job, rule, count(*) AS n FROM silver.quarantine WHERE logical_date = %s"
            " GROUP BY job, rule",
            (day,),
        )
        found = {(r.job, r.rule): r.n for r in rules.itertuples()}
        anomalies = loaded.generated[day].anomalies
        for kind, rule in RULES_FOR_ANOMALY.items():
            assert anomalies[kind] >= 1
            assert found.get(rule, 0) >= 1, (day, kind, rule, found)
        assert found[("trade_to_silver", "invalid_quantity")] == anomalies["negative_quantity"]
        bad_reference = sum(
            n
            for (job, rule), n in found.items()
            if job == "instrument_to_silver" and rule.startswith("unknown_")
        )
        assert bad_reference == anomalies["instrument_unknown_reference"]
    record = query(
        loaded.env.warehouse,
        "SELECT record FROM silver.quarantine WHERE rule = 'invalid_quantity' LIMIT 1",
    ).record[0]
    assert record["quantity"] < 0 and record["source_event_id"].endswith("-X3")


def test_a_late_amendment_closes_the_earlier_days_version(loaded: Loaded) -> None:
    day1, day2 = DAYS
    late = query(
        loaded.env.source,
        "SELECT trade_id, quantity::float AS quantity, event_time FROM ops.trade_event"
        " WHERE recorded_date = %s AND event_time < %s AND status = 'AMENDED'"
        " AND event_id LIKE '%%-11' ORDER BY event_id LIMIT 1",
        (day2, datetime(2026, 11, 20, tzinfo=UTC)),
    )
    assert len(late) == 1, "the generator makes late amendments for the previous day"
    versions = query(
        loaded.env.warehouse,
        """SELECT s.code, h.quantity::float AS quantity, h.status_time, h.sys_start, h.sys_end
           FROM silver.trade_status_hist h
           JOIN silver.trade t USING (trade_id)
           JOIN common.trade_status_type s ON s.trade_status_type_id = h.trade_status_type_id
           WHERE t.source_trade_id = %s ORDER BY h.sys_start""",
        (late.trade_id[0],),
    )
    sys1, sys2 = (loaded.cfg(d).system_time for d in DAYS)
    assert [v.to_pydatetime() for v in versions.sys_start] == [sys1, sys2]
    assert pd.Timestamp(versions.sys_end[0]).to_pydatetime() == sys2
    assert versions.code[0] == "FILLED" and versions.code[1] == "AMENDED"
    assert versions.quantity[1] == late.quantity[0]
    assert versions.status_time[1] == late.event_time[0]  # business time: the day before
    trade = query(
        loaded.env.warehouse,
        "SELECT trade_date FROM silver.trade WHERE source_trade_id = %s",
        (late.trade_id[0],),
    )
    assert trade.trade_date[0] == day1


def test_instrument_changes_become_versions_at_the_dates_system_time(loaded: Loaded) -> None:
    history = query(
        loaded.env.warehouse,
        "SELECT instrument_code, count(*) AS versions, max(sys_start) AS last_start"
        " FROM silver.instrument_hist GROUP BY instrument_code",
    )
    assert (history.versions >= 1).all()
    starts = {ts.to_pydatetime() for ts in history.last_start}
    assert starts <= {loaded.cfg(d).system_time for d in DAYS}


def test_rerunning_the_latest_day_changes_nothing(loaded: Loaded, spark) -> None:
    before = warehouse_fingerprint(loaded.env.warehouse)
    results = run_transforms(spark, loaded.cfg(DAYS[-1]), load_catalogue(SRC_PATH, "demo").entries)
    assert [r.job for r in results if r.skipped] == [
        "bar_to_bronze", "instrument_to_bronze", "portfolio_to_bronze", "trade_to_bronze"
    ]  # fmt: skip
    assert warehouse_fingerprint(loaded.env.warehouse) == before


def test_an_earlier_day_of_history_is_skipped_when_loaded_and_refused_when_not(
    loaded: Loaded, spark
) -> None:
    [silver] = load_catalogue(SRC_PATH, "demo").select(names=["trade_to_silver"])
    log_before = query(loaded.env.warehouse, "SELECT * FROM medallion.load_log ORDER BY 1, 2")
    [result] = run_transforms(spark, loaded.cfg(DAYS[0]), [silver])
    assert result.skipped == "2026-11-19 is already part of the history (loaded up to 2026-11-20)"
    with pytest.raises(PipelineError, match="refused, history is already loaded up to 2026-11-20"):
        run_transforms(spark, loaded.cfg(date(2026, 11, 18)), [silver])
    log_after = query(loaded.env.warehouse, "SELECT * FROM medallion.load_log ORDER BY 1, 2")
    pd.testing.assert_frame_equal(log_before, log_after)


def test_a_gap_in_history_is_refused_naming_the_missing_day(loaded: Loaded, spark) -> None:
    [silver] = load_catalogue(SRC_PATH, "demo").select(names=["trade_to_silver"])
    log_before = query(loaded.env.warehouse, "SELECT * FROM medallion.load_log ORDER BY 1, 2")
    with pytest.raises(PipelineError, match="loaded up to 2026-11-20 and 2026-11-21 was never"):
        run_transforms(spark, loaded.cfg(date(2026, 11, 22)), [silver])
    log_after = query(loaded.env.warehouse, "SELECT * FROM medallion.load_log ORDER BY 1, 2")
    pd.testing.assert_frame_equal(log_before, log_after)


@pytest.mark.parametrize(
    ("job", "running_day"),
    [("instrument_to_silver", DAYS[-1]), ("trade_to_silver", DAYS[-1]), ("bar_to_gold", DAYS[0])],
)
def test_a_load_claimed_elsewhere_is_refused_and_changes_nothing(
    loaded: Loaded, spark, job: str, running_day: date
) -> None:
    """Another run holds the load (silver: any date of the job; gold: that date)."""
    [transform] = load_catalogue(SRC_PATH, "demo").select(names=[job])
    before = warehouse_fingerprint(loaded.env.warehouse)
    with claim_load(loaded.cfg(running_day), job, in_order=job.endswith("_silver")):
        for day in DAYS:
            if job.endswith("_gold") and day != running_day:
                continue
            with pytest.raises(LoadInProgress, match=f"{job} .*is already being loaded by pid"):
                run_transforms(spark, loaded.cfg(day), [transform])
    assert warehouse_fingerprint(loaded.env.warehouse) == before


def test_gold_for_a_past_date_is_the_same_when_rerun_after_later_amendments(
    loaded: Loaded, spark
) -> None:
    """The 20th brought late amendments of the 19th's trades; gold for the 19th reads
    silver as of the 19th's system time, so rerunning it gives the reported snapshot."""
    gold = load_catalogue(SRC_PATH, "demo").select(layers=["gold"])
    kpis = "SELECT * FROM gold.trade_kpi_daily WHERE business_date = %s"
    before = query(loaded.env.warehouse, kpis, (DAYS[0],))
    run_transforms(spark, loaded.cfg(DAYS[0]), gold)
    pd.testing.assert_frame_equal(gold_positions(loaded.env.warehouse, DAYS[0]),
                                  loaded.gold_after_first_day)  # fmt: skip
    pd.testing.assert_frame_equal(query(loaded.env.warehouse, kpis, (DAYS[0],)), before)

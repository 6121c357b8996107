from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from src.config import ConnectionSettings
from src.demo.generator import (
    ANOMALY_KINDS,
    GeneratedDay,
    InvalidSourceSpec,
    SourceSpec,
    bar_file,
    generate_day,
    instrument_codes,
    portfolio_master,
)
from src.demo.generator_bars import BAR_SCHEMA, day_prices, instrument_master, universe
from src.marketdata.landing import manifest_file
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.errors import DatabaseUnreachable

pytestmark = pytest.mark.postgres

SPEC = SourceSpec(instruments=20, portfolios=10, trades=500)
DAY = date(2026, 3, 4)
PREVIOUS = DAY - timedelta(days=1)
# Event columns without row_id (a regenerated day gets new row ids).
EVENT_COLUMNS = (
    "event_id, trade_id, portfolio_code, instrument_code, action, status, quantity, "
    "filled_quantity, price, event_time, recorded_date"
)
CLEAN = "recorded_date = %(day)s AND event_id !~ '-(X[0-9]|11)$'"
LIFECYCLES = {
    "NEW>FILLED",
    "NEW>PARTIALLY_FILLED>FILLED",
    "NEW>PARTIALLY_FILLED",
    "NEW>CANCELLED",
    "NEW>FILLED>AMENDED",
}


def query(conn: ConnectionSettings, sql: str, **params: object) -> list[tuple]:
    raw = connect_raw(conn)
    try:
        with raw, raw.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        raw.close()


def scalar(conn: ConnectionSettings, sql: str, **params: object) -> object:
    return query(conn, sql, **params)[0][0]


def snapshot(conn: ConnectionSettings) -> dict[str, list[tuple]]:
    """Every ops table's rows, without the columns a rerun changes (row_id, generated_at)."""
    return {
        "instrument": query(conn, "SELECT * FROM ops.instrument ORDER BY 1"),
        "portfolio": query(conn, "SELECT * FROM ops.portfolio ORDER BY 1"),
        "trade_event": query(
            conn, f"SELECT {EVENT_COLUMNS} FROM ops.trade_event ORDER BY event_id, row_id"
        ),
        "generated_day": query(
            conn,
            "SELECT logical_date, seed, instruments, portfolios, trades, trade_events, bars "
            "FROM ops.generated_day ORDER BY 1",
        ),
    }


def day_events(conn: ConnectionSettings, day: date) -> list[tuple]:
    sql = f"SELECT {EVENT_COLUMNS} FROM ops.trade_event WHERE recorded_date = %(day)s"
    return query(conn, sql + " ORDER BY event_id, row_id", day=day)


def bar_rows(landing: Path, day: date) -> dict[str, list[dict]]:
    files = sorted(landing.glob(f"bars_1m/*/year={day.year}/month={day:%m}/day={day:%d}.parquet"))
    return {str(path.relative_to(landing)): pq.read_table(path).to_pylist() for path in files}


def new_database(server: ConnectionSettings) -> ConnectionSettings:
    name = f"test_gen_{uuid.uuid4().hex[:12]}"
    execute_autocommit(server, f'CREATE DATABASE "{name}"')
    return server.with_database(name)


def drop_database(server: ConnectionSettings, conn: ConnectionSettings) -> None:
    execute_autocommit(server, f'DROP DATABASE IF EXISTS "{conn.database}" WITH (FORCE)')


@pytest.fixture
def other_database(pg_server: ConnectionSettings) -> Iterator[ConnectionSettings]:
    conn = new_database(pg_server)
    try:
        yield conn
    finally:
        drop_database(pg_server, conn)


@dataclass(frozen=True)
class Generated:
    conn: ConnectionSettings
    landing: Path
    day: GeneratedDay


@pytest.fixture(scope="module")
def generated(
    pg_server: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Generated]:
    """The previous day and DAY generated once, for the read-only tests."""
    conn, landing = new_database(pg_server), tmp_path_factory.mktemp("landing")
    try:
        generate_day(conn, landing, PREVIOUS, SPEC)
        yield Generated(conn, landing, generate_day(conn, landing, DAY, SPEC))
    finally:
        drop_database(pg_server, conn)


def test_regenerating_a_day_gives_the_same_rows_and_no_duplicates(
    pg_database: ConnectionSettings, tmp_path: Path
) -> None:
    first = generate_day(pg_database, tmp_path, DAY, SPEC)
    tables, bars = snapshot(pg_database), bar_rows(tmp_path, DAY)
    second = generate_day(pg_database, tmp_path, DAY, SPEC)
    assert snapshot(pg_database) == tables
    assert bar_rows(tmp_path, DAY) == bars
    assert (second.trade_events, second.anomalies) == (first.trade_events, first.anomalies)
    assert scalar(pg_database, "SELECT count(*) FROM ops.trade_event") == first.trade_events
    assert len(tables["generated_day"]) == 1


def test_another_seed_gives_other_data_and_replaces_the_day(
    pg_database: ConnectionSettings, tmp_path: Path
) -> None:
    generate_day(pg_database, tmp_path, DAY, SPEC)
    tables, bars = snapshot(pg_database), bar_rows(tmp_path, DAY)
    other = SourceSpec(seed=43, instruments=20, portfolios=10, trades=500)
    result = generate_day(pg_database, tmp_path, DAY, other)
    changed = snapshot(pg_database)
    for name in ("instrument", "portfolio", "trade_event"):
        assert changed[name] != tables[name], name
    assert scalar(pg_database, "SELECT count(*) FROM ops.trade_event") == result.trade_events
    assert set(instrument_codes(other, DAY)).isdisjoint(instrument_codes(SPEC, DAY))
    assert {Path(p).parts[1] for p in bar_rows(tmp_path, DAY)} == {
        f"symbol={code}" for code in instrument_codes(other, DAY)
    }, "the first seed's files of the day are removed"
    assert bar_rows(tmp_path, DAY) != bars


def test_a_day_does_not_depend_on_other_days(
    pg_database: ConnectionSettings, other_database: ConnectionSettings, tmp_path: Path
) -> None:
    generate_day(pg_database, tmp_path / "alone", DAY, SPEC)
    generate_day(other_database, tmp_path / "after", DAY + timedelta(days=1), SPEC)
    generate_day(other_database, tmp_path / "after", DAY, SPEC)
    assert day_events(pg_database, DAY) == day_events(other_database, DAY)
    for table in ("instrument", "portfolio"):
        assert snapshot(pg_database)[table] == snapshot(other_database)[table]
    alone, after = bar_rows(tmp_path / "alone", DAY), bar_rows(tmp_path / "after", DAY)
    assert alone == after and alone


def test_generated_day_reports_what_it_wrote(generated: Generated) -> None:
    conn, day = generated.conn, generated.day
    assert day.logical_date == DAY and day.seconds > 0
    assert day.instruments == scalar(conn, "SELECT count(*) FROM ops.instrument")
    assert day.portfolios == scalar(conn, "SELECT count(*) FROM ops.portfolio") == 10
    assert day.trade_events == len(day_events(conn, DAY))
    assert day.bar_files == len(instrument_codes(SPEC, DAY))
    assert day.bars == sum(len(rows) for rows in bar_rows(generated.landing, DAY).values())
    recorded = query(conn, "SELECT * FROM ops.generated_day WHERE logical_date = %(d)s", d=DAY)
    assert recorded[0][1:7] == (42, day.instruments, 10, 500, day.trade_events, day.bars)


def test_each_anomaly_kind_is_injected_counted_and_findable(generated: Generated) -> None:
    conn, anomalies = generated.conn, generated.day.anomalies
    assert list(anomalies) == list(ANOMALY_KINDS)
    assert all(count >= 1 for count in anomalies.values()), anomalies
    found = {**_event_anomalies(conn), **_bar_anomalies(generated.landing)}
    found["instrument_unknown_reference"] = scalar(
        conn,
        "SELECT count(*) FROM ops.instrument WHERE asset_class NOT IN "
        "('EQUITY', 'ETF', 'FX', 'CRYPTO') OR currency NOT IN ('USD', 'EUR', 'GBP', 'JPY')",
    )
    assert found == anomalies


def _event_anomalies(conn: ConnectionSettings) -> dict[str, int]:
    day = {"day": DAY}
    where = {
        "null_required": "portfolio_code IS NULL OR price IS NULL OR action IS NULL",
        "unknown_instrument": "instrument_code ~ '^ZZZ[0-9]+$'",
        "negative_quantity": "quantity < 0",
        "late_event": "event_time < recorded_date",
    }
    found = {
        kind: scalar(conn, f"SELECT count(*) FROM ops.trade_event WHERE ({sql}) AND {CLEAN}", **day)
        for kind, sql in where.items()
    }
    assert not any(found.values()), f"clean rows look bad: {found}"
    found = {
        kind: scalar(
            conn,
            f"SELECT count(*) FROM ops.trade_event WHERE recorded_date = %(day)s AND ({sql})",
            **day,
        )
        for kind, sql in where.items()
    }
    found["duplicate"] = scalar(
        conn,
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM ops.trade_event "
        f"WHERE recorded_date = %(day)s GROUP BY {EVENT_COLUMNS}) AS g",
        **day,
    )
    return {kind: int(count) for kind, count in found.items()}


def _bar_anomalies(landing: Path) -> dict[str, int]:
    tables = [pa.Table.from_pylist(rows, BAR_SCHEMA) for rows in bar_rows(landing, DAY).values()]
    bars = pa.concat_tables(tables)
    top = np.maximum(bars["open"].to_numpy(), bars["close"].to_numpy())
    return {
        "bar_gap": 390 * len(tables) - bars.num_rows,
        "bar_high_below_open_close": int((bars["high"].to_numpy() < top).sum()),
        "bar_negative_volume": int((bars["volume"].to_numpy() < 0).sum()),
    }


def test_clean_lifecycles_keep_their_invariants(generated: Generated) -> None:
    conn, day = generated.conn, {"day": DAY}
    clean = f"(SELECT DISTINCT * FROM ({_events_sql()}) AS e WHERE {CLEAN}) AS c"
    paths = query(
        conn,
        f"SELECT string_agg(status, '>' ORDER BY event_id) FROM {clean} GROUP BY trade_id",
        **day,
    )
    assert len(paths) == 500 and {p for (p,) in paths} == LIFECYCLES
    assert 0.5 < sum(p == "NEW>FILLED" for (p,) in paths) / 500 < 0.7
    broken = (
        "NOT (filled_quantity BETWEEN 0 AND quantity AND quantity BETWEEN 1 AND 1000 "
        "AND quantity = round(quantity) AND price > 0 "
        "AND (status NOT IN ('NEW', 'CANCELLED') OR filled_quantity = 0) "
        "AND (status NOT IN ('FILLED', 'AMENDED') OR filled_quantity = quantity) "
        "AND (status <> 'PARTIALLY_FILLED' OR filled_quantity BETWEEN 1 AND quantity - 1) "
        "AND event_time >= %(day)s + time '14:30' AND event_time < %(day)s + time '21:00' "
        "AND event_id ~ '^T20260304-[0-9]{7}-0[1-3]$' AND event_id LIKE trade_id || '-%%' "
        "AND action IN ('BUY', 'SELL', 'SHORT', 'COVER') AND portfolio_code ~ '^PF[0-9]{4}$' "
        "AND instrument_code IN (SELECT instrument_code FROM ops.instrument))"
    )
    assert scalar(conn, f"SELECT count(*) FROM {clean} WHERE {broken}", **day) == 0
    out_of_order = (
        "SELECT count(*) FROM (SELECT row_number() OVER (PARTITION BY trade_id ORDER BY event_id)"
        " AS by_seq, row_number() OVER (PARTITION BY trade_id ORDER BY event_time) AS by_time, "
        f"count(*) OVER (PARTITION BY trade_id, event_time) AS same_time FROM {clean}) AS o "
        "WHERE by_seq <> by_time OR same_time > 1"
    )
    assert scalar(conn, out_of_order, **day) == 0
    unchanged = (
        f"SELECT count(*) FROM {clean} JOIN (SELECT DISTINCT * FROM ({_events_sql()}) AS e "
        f"WHERE {CLEAN}) AS f USING (trade_id) WHERE c.status = 'AMENDED' "
        "AND f.status = 'FILLED' AND c.quantity = f.quantity AND c.price = f.price"
    )
    assert scalar(conn, unchanged, **day) == 0


def test_trade_prices_stay_within_2_percent_of_the_day_price(generated: Generated) -> None:
    codes = list(universe(SPEC.seed, SPEC.instruments).codes)
    prices = dict(zip(codes, day_prices(SPEC.seed, SPEC.instruments, DAY), strict=True))
    rows = query(
        generated.conn,
        f"SELECT instrument_code, price FROM ops.trade_event WHERE {CLEAN}",
        day=DAY,
    )
    assert rows and all(abs(float(p) / prices[code] - 1) <= 0.02 for code, p in rows)


def _events_sql() -> str:
    return f"SELECT {EVENT_COLUMNS} FROM ops.trade_event"


def test_late_events_amend_yesterdays_filled_trades(generated: Generated) -> None:
    conn = generated.conn
    late = query(
        conn,
        "SELECT l.event_id, l.trade_id, l.status, l.quantity, l.filled_quantity, l.event_time, "
        "f.status, l.quantity <> f.quantity, "
        "(l.portfolio_code, l.instrument_code, l.action) = "
        "(f.portfolio_code, f.instrument_code, f.action) "
        "FROM ops.trade_event AS l LEFT JOIN (SELECT DISTINCT ON (trade_id) * FROM ops.trade_event "
        "WHERE recorded_date = %(previous)s AND event_id ~ '-0[1-3]$' "
        "ORDER BY trade_id, event_id DESC) AS f USING (trade_id) "
        "WHERE l.recorded_date = %(day)s AND l.event_time < l.recorded_date",
        day=DAY,
        previous=PREVIOUS,
    )
    assert len(late) == generated.day.anomalies["late_event"] >= 1
    start, end = (datetime.combine(PREVIOUS, time(h, m), UTC) for h, m in ((21, 0), (23, 59)))
    for event_id, trade_id, status, quantity, filled, at, last, corrected, same in late:
        assert re.fullmatch(r"T20260303-\d{7}", trade_id) and event_id == f"{trade_id}-11"
        assert (status, filled, last) == ("AMENDED", quantity, "FILLED")
        assert corrected and same and start <= at <= end


def test_valid_bars_keep_the_ohlc_rules_and_files_are_sorted(generated: Generated) -> None:
    first, last = (datetime.combine(DAY, time(h, m), UTC) for h, m in ((14, 30), (20, 59)))
    for rows in bar_rows(generated.landing, DAY).values():
        stamps = [row["timestamp"] for row in rows]
        assert stamps == sorted(set(stamps))
        assert all(first <= s <= last and s.second == s.microsecond == 0 for s in stamps)
        valid = [
            row
            for row in rows
            if row["high"] >= max(row["open"], row["close"]) and row["volume"] >= 0
        ]
        assert len(valid) > 0.95 * len(rows), "a few bars are broken on purpose"
        for row in valid:
            assert row["low"] <= min(row["open"], row["close"]) and row["low"] > 0
            assert row["low"] <= row["vwap"] <= row["high"]
            assert 0 <= row["trade_count"] <= row["volume"]


def test_bar_files_follow_the_hive_layout(generated: Generated) -> None:
    landing, codes = generated.landing, instrument_codes(SPEC, DAY)
    files = {path for path in landing.rglob("*") if path.is_file()}
    expected = {bar_file(landing, c, d) for d in (PREVIOUS, DAY) for c in instrument_codes(SPEC, d)}
    manifests = {manifest_file(landing, d) for d in (PREVIOUS, DAY)}
    assert (
        files == expected | manifests
    ), "one file per listed instrument and day, no temporary files"
    # each day's manifest lists the day's files: what bronze waits for
    listed_files = json.loads(manifest_file(landing, DAY).read_text())["files"]
    folder = landing / "bars_1m"
    assert listed_files == sorted(str(bar_file(landing, c, DAY).relative_to(folder)) for c in codes)
    assert str(bar_file(landing, "ABC", DAY).relative_to(landing)) == (
        "bars_1m/symbol=ABC/year=2026/month=03/day=04.parquet"
    )
    assert pq.read_schema(bar_file(landing, codes[0], DAY)).remove_metadata() == BAR_SCHEMA
    listed = [
        code for (code,) in query(generated.conn, "SELECT instrument_code FROM ops.instrument")
    ]
    assert sorted(listed) == codes


def test_instrument_codes_are_unique_tickers_fixed_by_the_seed() -> None:
    spec = SourceSpec(instruments=300)
    codes = [set(instrument_codes(spec, DAY + timedelta(days=n))) for n in range(30)]
    universe = set.union(*codes)
    assert len(universe) == 300 and all(re.fullmatch(r"[A-Z]{3,5}", c) for c in universe)
    assert 0.97 < sum(map(len, codes)) / (30 * 300) < 1.0, "about 1% unlisted a day"
    assert len({frozenset(listed) for listed in codes}) > 1, "instruments come and go"


def test_masters_change_slowly_and_updated_at_marks_the_changes() -> None:
    spec = SourceSpec(instruments=500, portfolios=400)
    renamed = changed_managers = 0
    for n in range(1, 11):
        day, before = DAY + timedelta(days=n), DAY + timedelta(days=n - 1)
        today, yesterday = instrument_master(spec, day)[0], instrument_master(spec, before)[0]
        renamed += _assert_updated_at_marks_changes(today, yesterday, day)
        managers = (portfolio_master(spec, d).column("manager") for d in (day, before))
        changed_managers += sum(a != b for a, b in zip(*managers, strict=True))
        _assert_updated_at_marks_changes(
            portfolio_master(spec, day), portfolio_master(spec, before), day
        )
    assert 0.01 < renamed / 5000 < 0.04  # about 2% of the instruments a day
    assert 0.03 < changed_managers / 4000 < 0.08  # about 5% of the portfolios a day


def _assert_updated_at_marks_changes(today: pa.Table, yesterday: pa.Table, day: date) -> int:
    at_18 = datetime.combine(day, time(18), UTC)
    old = {row[0]: row[1:-1] for row in zip(*yesterday.to_pydict().values(), strict=True)}
    changed = 0
    for *row, updated_at in zip(*today.to_pydict().values(), strict=True):
        is_change = old.get(row[0]) != tuple(row[1:])
        changed += row[0] in old and old[row[0]][0] != row[1]
        assert (updated_at == at_18) == is_change, (row, old.get(row[0]), updated_at)
    return changed


def test_a_missing_source_database_is_named(pg_server: ConnectionSettings, tmp_path: Path) -> None:
    missing = pg_server.with_database("no_such_source_db")
    with pytest.raises(DatabaseUnreachable, match="no_such_source_db does not exist"):
        generate_day(missing, tmp_path, DAY, SPEC)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"trades": 0}, r"SourceSpec.trades=0 is out of range: allowed 1..9999999"),
        ({"portfolios": 10_000}, r"SourceSpec.portfolios=10000 is out of range: allowed 1..9999"),
        ({"seed": -1}, r"SourceSpec.seed=-1 is out of range"),
        ({"bad_rate": 0.5}, r"SourceSpec.bad_rate=0.5 is out of range: allowed 0.0..0.3"),
    ],
)
def test_an_invalid_spec_is_refused_naming_the_field(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidSourceSpec, match=message):
        SourceSpec(**overrides)  # type: ignore[arg-type]

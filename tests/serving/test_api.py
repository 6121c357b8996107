"""The read API over a loaded demo warehouse, through a real HTTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi.routing import APIRoute
from openapi_spec_validator import validate
from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from src._base.functions.system_time import SET_SYSTEM_TIME
from src._base.tables.history import as_of
from src.demo.tables.silver.instrument_hist import InstrumentHist
from src.serving.db import AsyncDatabase
from src.serving.resources import resources_of
from src.serving.routes import encode_cursor
from src.utils.connections import connect_raw
from tests.serving.conftest import MODELS, Served, query

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]

RENAMED_AT = datetime(2026, 11, 23, tzinfo=UTC)  # after both loaded days


async def get(served: Served, path: str, **params) -> httpx.Response:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        return await client.get(path, params=params)


async def every_page(served: Served, path: str, **params) -> list[dict]:
    """Every item of a list, page by page, following ``next``."""
    items, after = [], None
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        while True:
            cursor = {"after": after} if after else {}
            page = (await client.get(path, params={**params, **cursor})).json()
            items += page["items"]
            after = page["next"]
            if after is None:
                return items


@pytest.fixture(scope="session")
def renamed(served: Served) -> list[str]:
    """Three instruments renamed after the loaded days: two versions each."""
    first = "SELECT instrument_code FROM silver.instrument ORDER BY 1 LIMIT 3"
    codes = [code for (code,) in query(served, first)]
    raw = connect_raw(served.warehouse)
    with raw.cursor() as cur:
        cur.execute(f"SELECT {SET_SYSTEM_TIME}(%s)", (RENAMED_AT,))
        cur.execute(
            "UPDATE silver.instrument_hist SET name = name || ' (renamed)'"
            " WHERE instrument_code = ANY(%s) AND sys_end = 'infinity'",
            (codes,),
        )
    raw.commit()
    raw.close()
    return codes


async def test_every_generated_route_is_in_the_openapi_document(served: Served) -> None:
    document = (await get(served, "/openapi.json")).json()
    validate(document)  # a valid OpenAPI 3 document
    paths = set(document["paths"])
    resources = resources_of(MODELS)
    assert {r.path for r in resources} >= {"/silver/instrument", "/gold/position_eod"}
    for resource in resources:
        keys = "".join(f"/{{{k}}}" for k in resource.keys)
        assert resource.path in paths
        assert resource.path + keys in paths
        assert (resource.path + keys + "/history" in paths) == resource.temporal
    position = document["components"]["schemas"]["GoldPositionEod"]["properties"]
    assert set(position) >= {"business_date", "quantity", "sys_start", "sys_end"}
    # exact money: a decimal, never a float (sent as a string)
    assert "string" in str(position["market_value"])


async def test_a_list_pages_through_every_current_row_once(served: Served) -> None:
    items = await every_page(served, "/silver/trade", limit=37)
    got = [item["trade_id"] for item in items]
    expected = [str(t) for (t,) in query(served, "SELECT trade_id FROM silver.trade ORDER BY 1")]
    assert got == expected
    assert len(got) > 37 * 3  # really paged


async def test_filters_use_the_key_and_indexed_columns(served: Served) -> None:
    [(day, count)] = query(
        served, "SELECT trade_date, count(*) FROM silver.trade GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )
    items = await every_page(served, "/silver/trade", trade_date=day.isoformat(), limit=1000)
    assert len(items) == count
    assert {item["trade_date"] for item in items} == {day.isoformat()}


async def test_as_of_reads_match_the_framework_s_as_of(served: Served, renamed) -> None:
    engine = create_engine(
        f"postgresql+psycopg2://{served.warehouse.user}@{served.warehouse.host}:"
        f"{served.warehouse.port}/{served.warehouse.database}",
        connect_args=(
            {"password": served.warehouse.password.get_secret_value()}
            if served.warehouse.password
            else {}
        ),
    )
    for at in (RENAMED_AT - timedelta(hours=1), RENAMED_AT + timedelta(hours=1)):
        with Session(engine) as session:
            expected = {r.instrument_code: r.name for r in session.exec(as_of(InstrumentHist, at))}
        items = await every_page(served, "/silver/instrument", as_of=at.isoformat(), limit=5)
        assert {i["instrument_code"]: i["name"] for i in items} == expected
    engine.dispose()
    before = await get(served, f"/silver/instrument/{renamed[0]}",
                       as_of=(RENAMED_AT - timedelta(seconds=1)).isoformat())  # fmt: skip
    now = await get(served, f"/silver/instrument/{renamed[0]}")
    assert not before.json()["name"].endswith("(renamed)")
    assert now.json()["name"].endswith("(renamed)")
    assert now.json()["sys_end"] is None and before.json()["sys_end"] is not None


async def test_history_lists_every_version_of_one_key(served: Served, renamed) -> None:
    response = await get(served, f"/silver/instrument/{renamed[1]}/history")
    versions = response.json()["items"]
    assert len(versions) == 2
    assert versions[0]["sys_end"] == versions[1]["sys_start"]
    assert versions[1]["sys_end"] is None
    assert datetime.fromisoformat(versions[1]["sys_start"]) == RENAMED_AT


async def test_a_composite_key_reads_one_row_with_exact_money(served: Served) -> None:
    [(day, portfolio, instrument, value)] = query(
        served,
        "SELECT business_date, portfolio_code, instrument_code, market_value"
        " FROM gold.position_eod WHERE market_value IS NOT NULL ORDER BY 1, 2, 3 LIMIT 1",
    )
    response = await get(served, f"/gold/position_eod/{day}/{portfolio}/{instrument}")
    assert response.status_code == 200
    assert Decimal(str(response.json()["market_value"])) == value


FIRST, LAST = "00000000-0000-7000-8000-000000000001", "ffffffff-ffff-7fff-bfff-ffffffffffff"
COPY_BAR = """INSERT INTO silver.minute_bar (minute_bar_id, instrument_code, bar_time, open, high,
    low, close, volume, trade_count, vwap, effective_time)
SELECT %s::uuid, instrument_code, bar_time + %s * interval '1 microsecond', open, high, low, close,
    volume, trade_count, vwap, effective_time
FROM silver.minute_bar WHERE minute_bar_id = %s::uuid"""


async def test_paging_is_stable_while_rows_are_inserted(served: Served) -> None:
    before = [str(k) for (k,) in query(served, "SELECT minute_bar_id FROM silver.minute_bar")]
    seen: list[str] = []
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        page = (await client.get("/silver/minute_bar", params={"limit": 500})).json()
        seen += [i["minute_bar_id"] for i in page["items"]]
        for n, new_id in enumerate((FIRST, LAST), 1):  # both sides of the cursor, mid-paging
            query(served, COPY_BAR, (new_id, n, before[0]))
        while page["next"]:
            params = {"limit": 500, "after": page["next"]}
            page = (await client.get("/silver/minute_bar", params=params)).json()
            seen += [i["minute_bar_id"] for i in page["items"]]
    assert len(seen) == len(set(seen))  # no row twice
    assert set(before) <= set(seen)  # no row that existed was skipped
    assert LAST in seen and FIRST not in seen  # only rows after the cursor show


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/silver/instrument", {"as_of": "2026-11-20T00:00:00"}, 422, "timezone"),
        ("/silver/instrument", {"as_of": "yesterday"}, 422, "as_of"),
        ("/silver/trade", {"trade_date": "2026-13-01"}, 422, "trade_date"),
        ("/silver/trade", {"limit": 5000}, 422, "limit"),
        ("/silver/trade", {"portfolio": "PF0001"}, 422, "portfolio"),  # not a filter
        ("/silver/trade", {"after": "not-a-cursor"}, 400, "cursor this API gave"),
        ("/silver/nothing", {}, 404, "Served: /gold/bar, /gold/daily_bar"),
        ("/silver/instrument/NOPE", {}, 404, "no row with instrument_code=NOPE"),
        ("/silver/instrument/NOPE/history", {}, 404, "no version with instrument_code=NOPE"),
        ("/gold/position_eod/2026-11-20/PF/X", {"as_of": "2026-11-20T00:00:00Z"}, 404, "at 2026"),
        ("/desk/prices/latest", {"symbol": "NOPE"}, 404, "unknown symbol 'NOPE'; known ones"),
        ("/desk/bars/NOPE/daily", {"start": "2026-11-19", "end": "2026-11-20"}, 404, "NOPE"),
        ("/desk/bars/X/minute", {"start": "2026-11-01", "end": "2026-11-20"}, 422, "at most 7"),
        ("/desk/bars/X/daily", {"start": "2026-11-20", "end": "2026-11-19"}, 422, "swap"),
        ("/desk/bars/X/daily", {"start": "20 Nov", "end": "2026-11-19"}, 422, "start"),
        ("/desk/portfolios/NOPE/positions", {"date": "2026-11-20"}, 404, "unknown portfolio"),
        ("/desk/portfolios/P/positions", {}, 422, "date"),
    ],
)
async def test_bad_requests_get_a_4xx_that_says_what_is_allowed(
    served: Served, path: str, params: dict, status: int, says: str
) -> None:
    response = await get(served, path, **params)
    assert response.status_code == status, response.text
    assert says in response.text
    assert "Traceback" not in response.text


async def test_a_cursor_from_another_key_shape_is_refused(served: Served) -> None:
    wrong = encode_cursor(["a", "b", "c"])  # silver/trade pages by one column
    response = await get(served, "/silver/trade", after=wrong)
    assert response.status_code == 400


async def test_health_names_the_database(served: Served) -> None:
    body = (await get(served, "/health")).json()
    assert body["status"] == "ok" and body["database"] == served.warehouse.database


async def test_the_api_cannot_write_even_as_a_superuser(served: Served) -> None:
    db = AsyncDatabase.connect(served.warehouse)  # the app's sessions, on this test's loop
    try:
        async with db.get_session() as session:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(text("DELETE FROM silver.trade"))
    finally:
        await db.dispose()
    assert query(served, "SELECT count(*) FROM silver.trade")[0][0] > 0


# ---------------------------------------------------------------- the desk's endpoints


async def test_latest_price_is_the_newest_minute_bar(served: Served) -> None:
    expected = dict(
        query(
            served,
            "SELECT DISTINCT ON (instrument_code) instrument_code, close::numeric"
            " FROM silver.minute_bar ORDER BY instrument_code, bar_time DESC",
        )
    )
    prices = (await get(served, "/desk/prices/latest")).json()
    assert {p["symbol"]: Decimal(p["price"]) for p in prices} == expected
    one = (await get(served, "/desk/prices/latest", symbol=prices[0]["symbol"])).json()
    assert one == [prices[0]]


async def test_bars_of_a_symbol_over_a_range(served: Served) -> None:
    [(symbol,)] = query(served, "SELECT instrument_code FROM gold.daily_bar ORDER BY 1 LIMIT 1")
    minute = (
        await get(served, f"/desk/bars/{symbol}/minute", start="2026-11-20", end="2026-11-20")
    ).json()
    [(count,)] = query(
        served,
        "SELECT count(*) FROM silver.minute_bar WHERE instrument_code = %s"
        " AND bar_time >= '2026-11-20' AND bar_time < '2026-11-21'",
        (symbol,),
    )
    assert len(minute) == count > 0
    daily = (
        await get(served, f"/desk/bars/{symbol}/daily", start="2026-11-19", end="2026-11-20")
    ).json()
    assert [d["date"] for d in daily] == ["2026-11-19", "2026-11-20"]
    assert daily[1]["close"] == f"{minute[-1]['close']:.6f}"  # the day's last minute


async def test_positions_and_pnl_of_a_portfolio(served: Served) -> None:
    [(portfolio,)] = query(served, "SELECT min(portfolio_code) FROM gold.portfolio_value_daily")
    body = (await get(served, f"/desk/portfolios/{portfolio}/positions", date="2026-11-20")).json()
    values = dict(
        query(
            served,
            "SELECT currency_code, market_value FROM gold.portfolio_value_daily"
            " WHERE portfolio_code = %s AND business_date = '2026-11-20'",
            (portfolio,),
        )
    )
    assert {c: Decimal(v) for c, v in body["market_value"].items()} == values
    assert body["positions"]
    pnl = (
        await get(served, f"/desk/portfolios/{portfolio}/pnl", start="2026-11-19", end="2026-11-20")
    ).json()
    assert {d["date"] for d in pnl["days"]} == {"2026-11-19", "2026-11-20"}
    for currency, total in pnl["total"].items():
        days = [Decimal(d["pnl"]) for d in pnl["days"] if d["currency_code"] == currency]
        assert Decimal(total) == sum(days)


async def test_every_answer_is_exactly_what_its_response_model_says(
    served: Served, renamed
) -> None:
    """Rows are written to JSON without being validated again (src/serving/routes.py,
    json_response): each body must be what the route's model makes of it, byte for byte,
    for every served table and every desk endpoint."""
    [(portfolio,)] = query(served, "SELECT min(portfolio_code) FROM gold.portfolio_value_daily")
    [(symbol,)] = query(served, "SELECT min(instrument_code) FROM silver.minute_bar")
    asks: list[tuple[str, dict]] = [
        ("/desk/prices/latest", {}),
        ("/desk/prices/latest", {"symbol": symbol}),
        (f"/desk/bars/{symbol}/minute", {"start": "2026-11-20", "end": "2026-11-20"}),
        (f"/desk/bars/{symbol}/daily", {"start": "2026-11-19", "end": "2026-11-20"}),
        (f"/desk/portfolios/{portfolio}/positions", {"date": "2026-11-20"}),
        (f"/desk/portfolios/{portfolio}/pnl", {"start": "2026-11-19", "end": "2026-11-20"}),
        (f"/silver/instrument/{renamed[0]}", {}),
        (f"/silver/instrument/{renamed[0]}", {"as_of": RENAMED_AT - timedelta(hours=1)}),
        (f"/silver/instrument/{renamed[0]}/history", {}),
    ]
    for resource in resources_of(MODELS):
        asks.append((resource.path, {"limit": 20}))
        rows = (await get(served, resource.path, limit=1)).json()["items"]
        if rows:
            asks.append((resource.path + "".join(f"/{rows[0][k]}" for k in resource.keys), {}))
    routes = [r for r in served.app.routes if isinstance(r, APIRoute)]
    checked = 0
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        for path, params in asks:
            response = await client.get(path, params=params)
            assert response.status_code == 200, (path, response.text)
            [route] = [r for r in routes if r.path_regex.match(path)]
            model = TypeAdapter(route.response_model)
            body = response.content
            assert model.dump_json(model.validate_json(body)) == body, path
            checked += bool(response.json())
    assert checked > len(asks) * 0.8  # most answers hold rows

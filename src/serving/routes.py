"""Read endpoints generated from the resources: list, item, and history for temporal ones.

    GET /silver/instrument?asset_class_type_id=1&limit=100&after=<cursor>&as_of=<time>
    GET /silver/instrument/{instrument_code}?as_of=<time>
    GET /silver/instrument/{instrument_code}/history
    GET /gold/position_eod/{business_date}/{portfolio_code}/{instrument_code}

Lists page by key (keyset pagination): ``next`` is an opaque cursor holding the last
row's key, and the next page starts after it, so a page never repeats or skips a row
that existed when the first page was read, whatever is inserted meanwhile. Temporal
resources read current rows, or those valid at ``as_of`` (``sys_start <= as_of <
sys_end``); ``sys_end`` is null for a current version.

This module does not use postponed annotations: FastAPI reads the generated endpoints'
annotations (filter and row models made at run time) as objects.
"""

import base64
import binascii
import inspect
import json
from collections.abc import AsyncIterator, Callable, Sequence
from functools import lru_cache
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic import Field as PydanticField
from pydantic_core import to_json
from sqlalchemy import ColumnElement, Select, bindparam, func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from src.serving.db import Statement, compile_for_asyncpg
from src.serving.resources import Resource

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A current version's sys_end, written into the SQL (asyncpg binds datetimes only).
CURRENT = literal_column("'infinity'::timestamptz")


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session for one request (a FastAPI dependency)."""
    async with request.app.state.db.get_session() as opened:
        yield opened


def pool_of(request: Request) -> asyncpg.Pool:
    """The app's asyncpg pool. The generated endpoints take the request and call this:
    a dependency fewer for FastAPI to solve on the hottest routes."""
    return request.app.state.db.pool


async def reader(request: Request) -> asyncpg.Pool:
    """The app's asyncpg pool, for :func:`~src.serving.db.read_rows` (a FastAPI
    dependency: ``db: Reader``)."""
    return pool_of(request)


Session = Annotated[AsyncSession, Depends(session)]
Reader = Annotated[asyncpg.Pool, Depends(reader)]
AsOf = Annotated[
    AwareDatetime | None,
    Query(description="read the versions valid at this instant (ISO 8601 with a zone)"),
]


def json_response(content: Any) -> Response:
    """``content`` as JSON, written by pydantic's rules (times in RFC 3339 with ``Z``,
    decimals as strings) without validating it again. For rows read from typed columns
    that are exactly what the route's response model says (the tests check every route
    this way): FastAPI would validate each row first, a millisecond per few hundred."""
    return Response(to_json(content, inf_nan_mode="null"), media_type="application/json")


def page_model(resource: Resource) -> type[BaseModel]:
    return create_model(
        f"{resource.row.__name__}Page",
        items=(list[resource.row], ...),
        next=(str | None, PydanticField(None, description="cursor of the next page, if any")),
    )


def _columns(resource: Resource) -> list[ColumnElement]:
    """The row's columns; a current version's ``sys_end`` ('infinity') comes back null."""
    table = resource.table
    if not resource.temporal:
        return list(table.columns)
    return [
        func.nullif(c, CURRENT).label(c.name) if c.name == "sys_end" else c for c in table.columns
    ]


def _valid(resource: Resource, as_of: bool) -> list[ColumnElement]:
    """Which versions a read sees: current ones, or (``as_of``) those valid at the
    parameter ``as_of``."""
    if not resource.temporal:
        return []
    c = resource.table.c
    if not as_of:
        return [c.sys_end == CURRENT]
    moment = bindparam("as_of", type_=c.sys_start.type)
    return [c.sys_start <= moment, c.sys_end > moment]


def _after(resource: Resource, order: Sequence[str]) -> ColumnElement:
    """Rows after the cursor's key (parameters ``after_<column>``), in ``order``."""
    columns = [resource.table.c[c] for c in order]
    bound = [bindparam(f"after_{c.name}", type_=c.type) for c in columns]
    return tuple_(*columns) > tuple_(*bound)


def _paged(resource: Resource, query: Select, order: Sequence[str], after: bool) -> Statement:
    """``query`` from the cursor on (if ``after``), in ``order``, ``limit`` rows."""
    if after:
        query = query.where(_after(resource, order))
    query = query.order_by(*(resource.table.c[c] for c in order)).limit(bindparam("limit"))
    return compile_for_asyncpg(query)


async def _page(
    pool: asyncpg.Pool,
    resource: Resource,
    statement: Statement,
    order: Sequence[str],
    values: dict[str, Any],
    limit: int,
    after: str | None,
) -> dict[str, Any]:
    """One page of ``statement`` (ordered by ``order``), and the cursor after its last row."""
    if after is not None:
        cursor = decode_cursor(after, [resource.python_type(c) for c in order])
        values.update({f"after_{c}": v for c, v in zip(order, cursor, strict=True)})
    rows = await statement.rows(pool, **values, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": encode_cursor([rows[-1][c] for c in order]) if more else None}


def encode_cursor(values: Sequence[Any]) -> str:
    text = json.dumps([str(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    """The key values a cursor holds, typed; a 400 for one this API did not give."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError(cursor)
        return [TypeAdapter(kind).validate_python(v) for kind, v in zip(types, values, strict=True)]
    except (binascii.Error, UnicodeDecodeError, ValueError, ValidationError):
        raise HTTPException(
            400, "after: not a cursor this API gave; pass the 'next' of the previous page, or "
            "leave 'after' out for the first page",
        ) from None  # fmt: skip


def filter_model(resource: Resource) -> type[BaseModel]:
    """Query parameters of a list: one optional equality filter per filterable column,
    ``limit``, ``after``, and ``as_of`` on a temporal resource. Unknown parameters are
    refused (a misspelt filter would otherwise return every row)."""
    fields: dict[str, Any] = {
        column: (resource.python_type(column) | None, PydanticField(None))
        for column in resource.filters
    }
    fields["limit"] = (int, PydanticField(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT))
    fields["after"] = (str | None, PydanticField(None, description="the previous page's next"))
    if resource.temporal:
        fields["as_of"] = (AwareDatetime | None, PydanticField(None))
    return create_model(
        f"{resource.row.__name__}Filters", __config__=ConfigDict(extra="forbid"), **fields
    )


def list_endpoint(resource: Resource) -> Callable[..., Any]:
    filters = filter_model(resource)

    @lru_cache(maxsize=256)
    def statement(given: tuple[str, ...], as_of: bool, after: bool) -> Statement:
        """The list's SQL for one combination of filters (few are used: compiled once)."""
        table = resource.table
        where = [
            table.c[column] == bindparam(column, type_=table.c[column].type) for column in given
        ]
        query = select(*_columns(resource)).where(*where, *_valid(resource, as_of))
        return _paged(resource, query, resource.keys, after)

    async def list_rows(
        request: Request, params: Annotated[filters, Query()]  # type: ignore[valid-type]
    ) -> Response:
        values = params.model_dump(exclude_none=True)
        limit, after = values.pop("limit"), values.pop("after", None)
        given = tuple(column for column in resource.filters if column in values)
        chosen = statement(given, "as_of" in values, after is not None)
        page = await _page(pool_of(request), resource, chosen, resource.keys, values, limit, after)
        return json_response(page)

    return list_rows


def _key_parameters(resource: Resource) -> list[inspect.Parameter]:
    return [
        inspect.Parameter(
            key,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[resource.python_type(key), Path()],
        )
        for key in resource.keys
    ]


def _with_signature(function: Callable[..., Any], parameters: list[inspect.Parameter]) -> None:
    function.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]


def _describe_key(resource: Resource, keys: dict[str, Any]) -> str:
    return ", ".join(f"{k}={keys[k]}" for k in resource.keys)


def _by_key(resource: Resource) -> list[ColumnElement]:
    return [
        resource.table.c[k] == bindparam(k, type_=resource.table.c[k].type) for k in resource.keys
    ]


def item_statements(resource: Resource) -> tuple[Statement, Statement]:
    """One row by key: the current one, and the one valid at ``as_of``."""
    query = select(*_columns(resource)).where(*_by_key(resource))
    current = compile_for_asyncpg(query.where(*_valid(resource, as_of=False)))
    return current, compile_for_asyncpg(query.where(*_valid(resource, as_of=True)))


def item_endpoint(resource: Resource) -> Callable[..., Any]:
    current, at_time = item_statements(resource)

    async def get_row(request: Request, as_of: Any = None, **keys: Any) -> Response:
        db = pool_of(request)
        if as_of is None:
            rows = await current.rows(db, **keys)
        else:
            rows = await at_time.rows(db, **keys, as_of=as_of)
        if not rows:
            when = f" at {as_of.isoformat()}" if as_of is not None else ""
            raise HTTPException(
                404, f"{resource.path}: no row with {_describe_key(resource, keys)}{when}"
            )
        return json_response(rows[0])

    parameters = [inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
    if resource.temporal:
        parameters.append(
            inspect.Parameter(
                "as_of", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=AsOf
            )
        )
    _with_signature(get_row, parameters + _key_parameters(resource))
    return get_row


def history_endpoint(resource: Resource) -> Callable[..., Any]:
    order = ("sys_start",)
    query = select(*_columns(resource)).where(*_by_key(resource))
    first, later = (_paged(resource, query, order, after) for after in (False, True))

    async def history(
        request: Request, limit: int, after: str | None = None, **keys: Any
    ) -> Response:
        statement = first if after is None else later
        page = await _page(pool_of(request), resource, statement, order, keys, limit, after)
        if not page["items"] and after is None:
            raise HTTPException(
                404, f"{resource.path}: no version with {_describe_key(resource, keys)}"
            )
        return json_response(page)

    keyword = inspect.Parameter.KEYWORD_ONLY
    limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
    parameters = [
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("limit", keyword, default=DEFAULT_LIMIT, annotation=limit),
        inspect.Parameter("after", keyword, default=None, annotation=str | None),
    ]
    _with_signature(history, parameters + _key_parameters(resource))
    return history


def resource_router(resource: Resource) -> APIRouter:
    """The routes of one resource, tagged with its layer."""
    router = APIRouter(prefix=resource.path, tags=[resource.schema])
    page = page_model(resource)
    keys = "".join(f"/{{{k}}}" for k in resource.keys)
    what = resource.doc or f"{resource.schema}.{resource.table.name}"
    router.add_api_route(
        "", list_endpoint(resource), response_model=page, summary=f"List {resource.name}",
        description=what, name=f"list_{resource.schema}_{resource.name}",
    )  # fmt: skip
    router.add_api_route(
        keys, item_endpoint(resource), response_model=resource.row,
        summary=f"One {resource.name} by key", name=f"get_{resource.schema}_{resource.name}",
        responses={404: {"description": "no row with this key"}},
    )  # fmt: skip
    if resource.temporal:
        router.add_api_route(
            f"{keys}/history", history_endpoint(resource), response_model=page,
            summary=f"Every version of one {resource.name}",
            name=f"history_{resource.schema}_{resource.name}",
        )  # fmt: skip
    return router

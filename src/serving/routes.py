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
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic import Field as PydanticField
from sqlalchemy import ColumnElement, Select, and_, func, literal, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from src.serving.resources import Resource

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A current version's sys_end, written into the SQL (asyncpg binds datetimes only).
CURRENT = literal_column("'infinity'::timestamptz")


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session for one request (a FastAPI dependency)."""
    async with request.app.state.db.get_session() as opened:
        yield opened


Session = Annotated[AsyncSession, Depends(session)]
AsOf = Annotated[
    AwareDatetime | None,
    Query(description="read the versions valid at this instant (ISO 8601 with a zone)"),
]


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


def _valid(resource: Resource, as_of: Any) -> list[ColumnElement]:
    """Which versions a read sees: current ones, or those valid at ``as_of``."""
    if not resource.temporal:
        return []
    c = resource.table.c
    if as_of is None:
        return [c.sys_end == CURRENT]
    return [c.sys_start <= as_of, c.sys_end > as_of]


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


async def _page(
    db: AsyncSession, resource: Resource, query: Select, order: Sequence[str], limit: int
) -> dict[str, Any]:
    """One page of ``query`` in ``order``, and the cursor after its last row."""
    table = resource.table
    query = query.order_by(*(table.c[c] for c in order)).limit(limit + 1)
    rows = (await db.execute(query)).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor([rows[-1][c] for c in order]) if more else None
    return {"items": [resource.row.model_validate(dict(r)) for r in rows], "next": cursor}


def _after(resource: Resource, order: Sequence[str], cursor: str | None) -> list[ColumnElement]:
    if cursor is None:
        return []
    values = decode_cursor(cursor, [resource.python_type(c) for c in order])
    columns = [resource.table.c[c] for c in order]
    bound = (literal(v, c.type) for v, c in zip(values, columns, strict=True))
    return [tuple_(*columns) > tuple_(*bound)]


def list_endpoint(resource: Resource) -> Callable[..., Any]:
    filters = filter_model(resource)

    async def list_rows(
        db: Session, params: Annotated[filters, Query()]  # type: ignore[valid-type]
    ) -> dict[str, Any]:
        given = params.model_dump(exclude_none=True)
        table = resource.table
        where = [table.c[column] == given[column] for column in resource.filters if column in given]
        where += _valid(resource, given.get("as_of"))
        where += _after(resource, resource.keys, given.get("after"))
        query = select(*_columns(resource)).where(and_(True, *where))
        return await _page(db, resource, query, resource.keys, given["limit"])

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


def item_endpoint(resource: Resource) -> Callable[..., Any]:
    async def get_row(db: AsyncSession, as_of: Any = None, **keys: Any) -> Any:
        table = resource.table
        where = [table.c[k] == v for k, v in keys.items()] + _valid(resource, as_of)
        row = (await db.execute(select(*_columns(resource)).where(*where))).mappings().first()
        if row is None:
            when = f" at {as_of.isoformat()}" if as_of is not None else ""
            raise HTTPException(
                404, f"{resource.path}: no row with {_describe_key(resource, keys)}{when}"
            )
        return resource.row.model_validate(dict(row))

    parameters = [inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, annotation=Session)]
    if resource.temporal:
        parameters.append(
            inspect.Parameter(
                "as_of", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=AsOf
            )
        )
    _with_signature(get_row, parameters + _key_parameters(resource))
    return get_row


def history_endpoint(resource: Resource) -> Callable[..., Any]:
    async def history(
        db: AsyncSession, limit: int, after: str | None = None, **keys: Any
    ) -> dict[str, Any]:
        table = resource.table
        where = [table.c[k] == v for k, v in keys.items()]
        where += _after(resource, ("sys_start",), after)
        query = select(*_columns(resource)).where(*where)
        page = await _page(db, resource, query, ("sys_start",), limit)
        if not page["items"] and after is None:
            raise HTTPException(
                404, f"{resource.path}: no version with {_describe_key(resource, keys)}"
            )
        return page

    keyword = inspect.Parameter.KEYWORD_ONLY
    limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
    parameters = [
        inspect.Parameter("db", keyword, annotation=Session),
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

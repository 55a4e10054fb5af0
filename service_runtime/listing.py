"""Listings over a projection: whose rows a caller may list, a stable order, cursor pages.

A listing is a projection read as a list: every key's view (one query for the whole projection),
kept when the caller may see it, sorted newest first by a sort key that ends with the key itself
(so the order is total and stable), then cut after the cursor. A cursor is the sort key of the
last item of the previous page, base64url-encoded JSON: it names a place in the order, not an
offset, so items added meanwhile never shift or repeat a page.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import BaseModel

from service_runtime.errors import DomainError
from service_runtime.projections import ProjectionStore

MAX_PAGE = 100
SortKey = Callable[[dict[str, Any]], list[str]]


class PageParams(BaseModel):
    limit: int
    cursor: str | None


def page_params(limit: int = Query(20, ge=1, le=MAX_PAGE, description="items per page"),
                cursor: str | None = Query(None, max_length=400, pattern=r"^[A-Za-z0-9_\-=]+$",
                                           description="the `next` cursor of the previous page")) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


class InvalidCursor(DomainError):
    status = 400


def encode_cursor(sort_key: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> list[str]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this listing issued; start again without it") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidCursor("the cursor is not one this listing issued; start again without it")
    return value


def views(store: ProjectionStore, projection: str,
          view: Callable[[str, list[dict[str, Any]]], dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for key, entries in store.entries_by_key(projection).items():
        yield view(key, entries)


def page(items: Iterable[dict[str, Any]], sort_key: SortKey, params: PageParams,
         request: Request) -> dict[str, Any]:
    """Newest first; `next` is a relative link to the following page, or null on the last one."""
    ordered = sorted(items, key=sort_key, reverse=True)
    if params.cursor:
        after = decode_cursor(params.cursor)
        ordered = [item for item in ordered if sort_key(item) < after]
    chosen = ordered[:params.limit]
    next_link = None
    if len(ordered) > params.limit:
        query = {k: v for k, v in request.query_params.items() if k != "cursor"}
        query["cursor"] = encode_cursor(sort_key(chosen[-1]))
        next_link = f"{request.url.path}?{urlencode(query)}"
    return {"items": chosen, "next": next_link}


def page_model(item: type[BaseModel]) -> type[BaseModel]:
    """The documented shape of a page of `item`s."""
    from pydantic import create_model

    return create_model(f"{item.__name__}Page", items=(list[item], ...), next=(str | None, None))

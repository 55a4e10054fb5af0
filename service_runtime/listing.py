"""Listings over a projection: whose rows a caller may list, a stable order, cursor pages.

A listing is a projection read as a list: every key's view (one query for the whole projection),
kept when the caller may see it, sorted newest first by a sort key that ends with the key itself
(so the order is total and stable), then cut after the cursor. A cursor is the sort key of the
last item of the previous page, its parts joined by `~`: it names a place in the order, not an
offset, so items added meanwhile never shift or repeat a page, and any string of its alphabet is
a place (the API's schema and the server agree on what a cursor is).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import BaseModel

from service_runtime.projections import ProjectionStore

MAX_PAGE = 100
CURSOR_PATTERN = r"^[A-Za-z0-9_.:+@~-]{1,400}$"  # times, ids and codes, joined by ~
SortKey = Callable[[dict[str, Any]], list[str]]


class PageParams(BaseModel):
    limit: int
    cursor: str | None


def page_params(limit: int = Query(20, ge=1, le=MAX_PAGE, description="items per page"),
                cursor: str | None = Query(None, max_length=400, pattern=CURSOR_PATTERN,
                                           description="the `next` cursor of the previous page")) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(sort_key: list[str]) -> str:
    return "~".join(sort_key)


def decode_cursor(cursor: str) -> list[str]:
    return cursor.split("~")


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

"""Listings over a projection: whose rows a caller may list, a stable order, cursor pages read in SQL.

A listing is a projection read as a list. Each listed key has one *head* entry (an order's
placed entry, an item's received entry...) naming its owner; the head's time, then the key,
order the list newest first (a total, stable order). A page is a keyset query on the entries
table: heads of this owner WHERE (at, key) < cursor ORDER BY at DESC, key DESC LIMIT n+1, through
an index on (projection, owner, at, key), then the entries of those n keys only: a page reads
O(page) rows however large the projection. A cursor is the (at, key) of the previous page's last
item joined by `~`: it names a place in the order, not an offset, so items added meanwhile never
shift or repeat a page, and any string of its alphabet is a place (the API's schema and the server
agree on what a cursor is).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import BaseModel

from service_runtime.projections import ProjectionStore

MAX_PAGE = 100
CURSOR_PATTERN = r"^[A-Za-z0-9_.:+@~-]{1,400}$"  # times, ids and codes, joined by ~
FIELD_NAME = re.compile(r"^[a-z_]{1,40}$")  # field names are written into SQL: only these
View = Callable[[str, list[dict[str, Any]]], dict[str, Any]]


class PageParams(BaseModel):
    limit: int
    cursor: str | None


async def page_params(limit: int = Query(20, ge=1, le=MAX_PAGE, description="items per page"),
                      cursor: str | None = Query(None, max_length=400, pattern=CURSOR_PATTERN,
                                                 description="the `next` cursor of the previous page")) -> PageParams:
    """A dependency (async: FastAPI runs a plain function on its thread pool, a hop for nothing)."""
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(sort_key: list[str]) -> str:
    return "~".join(sort_key)


def decode_cursor(cursor: str) -> list[str]:
    return cursor.split("~")


@dataclass(frozen=True)
class Listing:
    """Which entries of a projection head its listed keys: those whose `owner_field` is set and,
    when `fact` is given, whose `fact` field equals it. The head's `at` orders the list."""
    projection: str
    owner_field: str
    fact: str | None = None

    def __post_init__(self) -> None:
        assert FIELD_NAME.match(self.owner_field), self.owner_field


@dataclass
class Dialect:
    """The SQL that differs between PostgreSQL and SQLite: JSON field access and byte-wise order
    (PostgreSQL compares text by the database's collation, Python and SQLite by code point)."""
    postgres: bool
    indexed: set[str] = field(default_factory=set)

    def json_field(self, name: str) -> str:
        return f"(data::jsonb ->> '{name}')" if self.postgres else f"json_extract(data, '$.{name}')"

    def ordered(self, column: str) -> str:
        return f'{column} COLLATE "C"' if self.postgres else column


_dialects: "weakref.WeakKeyDictionary[ProjectionStore, Dialect]" = weakref.WeakKeyDictionary()


def _dialect(store: ProjectionStore, listing: Listing) -> Dialect:
    dialect = _dialects.setdefault(store, Dialect(store.is_postgres))
    if listing.owner_field not in dialect.indexed:
        ordered = f"{dialect.ordered('at')}, {dialect.ordered('key')}"
        name = f"listing_by_{listing.owner_field}"
        for statement in (
                f"CREATE INDEX IF NOT EXISTS {name} ON {{entries}} "
                f"(projection, ({dialect.json_field(listing.owner_field)}), {ordered})",
                f"CREATE INDEX IF NOT EXISTS listing_by_time ON {{entries}} (projection, {ordered})"):
            try:
                store.run_sql(statement, ())
            except Exception as error:  # another process created it at the same moment
                if "already exists" not in str(error) and "duplicate key" not in str(error):
                    raise
        dialect.indexed.add(listing.owner_field)
    return dialect


def head_query(store: ProjectionStore, listing: Listing, owner: str | None, after: list[str] | None,
               count: int) -> tuple[str, list[str]]:
    """The keyset query for the next `count` heads after the cursor, newest first (SQL with
    `{entries}` for the table, and its parameters)."""
    dialect = _dialect(store, listing)
    owner_sql = dialect.json_field(listing.owner_field)
    where, params = ["projection = ?"], [listing.projection]
    if owner is None:
        where.append(f"{owner_sql} IS NOT NULL")
    else:
        where.append(f"{owner_sql} = ?")
        params.append(owner)
    if listing.fact:
        where.append(f"{dialect.json_field('fact')} = ?")
        params.append(listing.fact)
    if after:
        at, key = after[0], after[1] if len(after) > 1 else ""
        where.append(f"({dialect.ordered('at')}, {dialect.ordered('key')}) < (?, ?)")
        params += [at, key]
    return (f"SELECT at, key FROM {{entries}} WHERE {' AND '.join(where)} "
            f"ORDER BY {dialect.ordered('at')} DESC, {dialect.ordered('key')} DESC LIMIT {int(count)}", params)


def _heads(store: ProjectionStore, listing: Listing, owner: str | None, after: list[str] | None,
           count: int) -> list[tuple[str, str]]:
    return [(at, key) for at, key in store.run_sql(*head_query(store, listing, owner, after, count))]


def _entries_of(store: ProjectionStore, projection: str, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
    import json

    grouped: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    if keys:
        marks = ", ".join("?" for _ in keys)
        for key, data in store.run_sql(
                f"SELECT key, data FROM {{entries}} WHERE projection = ? AND key IN ({marks}) "
                "ORDER BY key, at, event_id", [projection, *keys]):
            grouped[key].append(json.loads(data))
    return grouped


def listed_page(store: ProjectionStore, listing: Listing, view: View, params: PageParams, request: Request,
                owner: str | None, keep: Callable[[dict[str, Any]], bool] = lambda row: True) -> dict[str, Any]:
    """One page of `owner`'s keys (everyone's when None) as views, newest first; `keep` drops rows
    SQL cannot tell apart (a staff filter on a derived status): then further heads are read in
    page-sized steps until the page is full. `next` is a relative link to the following page, or
    null on the last one."""
    after = decode_cursor(params.cursor) if params.cursor else None
    chosen: list[tuple[list[str], dict[str, Any]]] = []
    seen: set[str] = set()
    while len(chosen) <= params.limit:
        heads = _heads(store, listing, owner, after, params.limit + 1)
        fresh = [(at, key) for at, key in heads if key not in seen]
        entries = _entries_of(store, listing.projection, [key for _, key in fresh])
        for at, key in fresh:
            seen.add(key)
            row = view(key, entries[key])
            if keep(row):
                chosen.append(([at, key], row))
        if len(heads) <= params.limit:
            break
        after = list(heads[-1])
    next_link = None
    if len(chosen) > params.limit:
        query = {k: v for k, v in request.query_params.items() if k != "cursor"}
        query["cursor"] = encode_cursor(chosen[params.limit - 1][0])
        next_link = f"{request.url.path}?{urlencode(query)}"
    return {"items": [row for _, row in chosen[:params.limit]], "next": next_link}


def page_model(item: type[BaseModel]) -> type[BaseModel]:
    """The documented shape of a page of `item`s."""
    from pydantic import create_model

    return create_model(f"{item.__name__}Page", items=(list[item], ...), next=(str | None, None))

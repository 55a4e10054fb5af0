"""Listing pages read in SQL, the same cases on SQLite (unit) and PostgreSQL (integration): a page
reads O(page) rows of a projection of thousands, through an index, and stays stable while rows
are inserted."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

from service_runtime.http import create_app
from service_runtime.listing import decode_cursor, head_query
from service_runtime.projections import Entry, ProjectionStore
from services.orders import projections as order_views
from tests.support import auth

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
CUSTOMERS = 20
ORDERS = 3000  # 150 each
PAGE = 10


def placed(customer: str, minute: float) -> Entry:
    """The entry an OrderPlaced event gives the timeline projection (its head in the listing)."""
    at = (START + timedelta(minutes=minute)).isoformat()
    order_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    return Entry(order_id, at, event_id, {
        "stage": "order_placed", "name_en": "Order placed", "name_zh": "已下单", "at": at, "actor": f"customer:{customer}",
        "details": {}, "event_id": event_id, "owner": customer,
        "summary": {"total": "99.50", "currency": "CNY", "destination_country": "GB",
                    "items": [{"platform": "taobao", "sku": "black-M", "quantity": 1}]}})


def fill(store: ProjectionStore) -> None:
    entries = [placed(f"c{n % CUSTOMERS}", n) for n in range(ORDERS)]
    for start in range(0, len(entries), 500):
        store.apply(order_views.TIMELINE.name, entries[start:start + 500], {})


class CountingStore:
    """Counts the rows every listing query hands back (what a page reads)."""

    def __init__(self, store: ProjectionStore, monkeypatch) -> None:
        self.rows = 0
        real = store.run_sql

        def counted(sql, params):
            result = real(sql, params)
            self.rows += len(result)
            return result

        monkeypatch.setattr(store, "run_sql", counted)


def get(http: TestClient, link: str, customer: str) -> dict:
    response = http.get(link, headers=auth(customer, "customer"))
    assert response.status_code == 200, response.text
    return response.json()


def client(store: ProjectionStore) -> TestClient:
    return TestClient(create_app("test", [order_views.router(store)], metrics_label="test"))


def a_page_reads_page_sized_rows(store: ProjectionStore, monkeypatch) -> None:
    fill(store)
    http, counter = client(store), CountingStore(store, monkeypatch)
    link, seen, reads = f"/orders?limit={PAGE}", [], []
    for _ in range(4):
        counter.rows = 0
        body = get(http, link, "c3")
        reads.append(counter.rows)
        seen += [item["placed_at"] for item in body["items"]]
        link = body["next"]
    assert len(seen) == 4 * PAGE and seen == sorted(seen, reverse=True)
    # heads of page+1 keys and their entries (one each here): never the 150 of c3, nor the 3000
    assert max(reads) <= 2 * (PAGE + 1), reads


def the_page_query_uses_the_index(store: ProjectionStore, _monkeypatch) -> None:
    fill(store)
    cursor = decode_cursor(f"{(START + timedelta(minutes=1500)).isoformat()}~{uuid.uuid4()}")
    sql, params = head_query(store, order_views.ORDERS_LISTED, "c3", cursor, PAGE + 1)
    if store.is_postgres:
        store.run_sql("ANALYZE {entries}", ())
        plan = json.dumps(store.run_sql("EXPLAIN (FORMAT JSON) " + sql, params))
        assert "listing_by_owner" in plan and '"Sort"' not in plan and "Seq Scan" not in plan, plan
    else:
        plan = " | ".join(row[-1] for row in store.run_sql("EXPLAIN QUERY PLAN " + sql, params))
        assert "USING INDEX listing_by_owner" in plan and "TEMP B-TREE" not in plan, plan


def pages_are_stable_while_rows_are_inserted(store: ProjectionStore, _monkeypatch) -> None:
    fill(store)
    http = client(store)
    mine = {e["order_id"] for e in get(http, "/orders?limit=100", "c5")["items"]}  # the newest 100 of c5
    link, walked, minute = "/orders?limit=7", [], ORDERS
    while link:
        body = get(http, link, "c5")
        walked += [item["order_id"] for item in body["items"]]
        # meanwhile c5 places newer orders: they never shift, repeat or join the walk under way
        store.apply(order_views.TIMELINE.name, [placed("c5", minute)], {})
        minute += 1
        link = body["next"]
    assert len(walked) == len(set(walked)) == ORDERS // CUSTOMERS
    assert mine <= set(walked)
    fresh = get(http, "/orders?limit=3", "c5")["items"]
    assert all(item["order_id"] not in walked for item in fresh)  # the newer orders head a new walk


CASES = (a_page_reads_page_sized_rows, the_page_query_uses_the_index, pages_are_stable_while_rows_are_inserted)

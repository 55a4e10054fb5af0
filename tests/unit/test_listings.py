"""The customer listings: projections fed with published events, read through their gateways,
paged with cursors over three pages, each customer seeing only their own."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from contracts import Envelope, EventPayload
from contracts.claims import ClaimOpened
from contracts.orders import OrderPlaced
from contracts.warehouse import ConsolidationRequested, ItemInspected, ItemReceived, ItemStored
from service_runtime.http import create_app
from service_runtime.listing import decode_cursor, encode_cursor
from service_runtime.projections import Projection, ProjectionStore
from service_runtime.settings import Settings, get_settings
from services.claims import projections as claims_views
from services.logistics import projections as parcel_views
from services.orders import projections as order_views
from services.warehouse import projections as warehouse_views
from services.warehouse.codes import code_for
from tests.support import CARRIER_SECRET, JWT_SECRET, auth

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("KONGFU_JWT_SECRET", JWT_SECRET)
    get_settings.cache_clear()
    return Settings(mode="embedded", var_dir=tmp_path, jwt_secret=JWT_SECRET, carrier_webhook_secret=CARRIER_SECRET)


def envelope(payload: EventPayload, minutes: int) -> Envelope:
    return Envelope(event_id=uuid.uuid4(), type=payload.event_type, schema_version=payload.schema_version,
                    occurred_at=START + timedelta(minutes=minutes), producer=payload.event_type.split(".")[0],
                    aggregate_id=uuid.uuid4(), aggregate_version=1, actor="customer:x",
                    order_id=getattr(payload, "order_id", None), payload=payload.model_dump(mode="json"))


def project(store: ProjectionStore, projection: Projection, payloads: list[EventPayload]) -> None:
    entries = []
    for minute, payload in enumerate(payloads):
        entries += projection.entries(envelope(payload, minute), payload)
    store.apply(projection.name, entries, {})


def client(settings: Settings, router_factory, name: str) -> tuple[TestClient, ProjectionStore]:
    store = ProjectionStore(settings, "unused", name)
    return TestClient(create_app("test", [router_factory(store)], metrics_label="test")), store


def walk(http: TestClient, path: str, headers: dict[str, str]) -> list[list[dict]]:
    pages, link = [], path
    while link:
        response = http.get(link, headers=headers)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        link = response.json()["next"]
    return pages


def order_placed(customer: str) -> OrderPlaced:
    return OrderPlaced(order_id=uuid.uuid4(), customer_id=customer, destination_country="GB", lines=[{
        "line_no": 1, "platform": "taobao", "item_id": "6543217890", "sku": "black-M", "quantity": 1,
        "product_url": "https://item.taobao.com/item.htm?id=6543217890", "unit_price": "99.50"}],
        quote={"currency": "CNY", "lines": [{"code": "goods", "label": "Goods", "amount": "99.50"}],
               "total": "99.50", "rules_version": "v1"})


def test_orders_page_over_three_pages_newest_first_and_only_mine(settings):
    http, store = client(settings, order_views.router, "orders")
    placed = [order_placed("alice" if n % 4 else "bob") for n in range(10)]  # alice 7, bob 3
    project(store, order_views.TIMELINE, placed)

    pages = walk(http, "/orders?limit=3", auth("alice", "customer"))
    assert [len(p) for p in pages] == [3, 3, 1]
    listed = [row["order_id"] for p in pages for row in p]
    mine = [str(p.order_id) for p in placed if p.customer_id == "alice"]
    assert listed == list(reversed(mine))  # newest first, none twice, none missed
    first = pages[0][0]
    assert first["status"] == "order_placed" and first["next_action"] == "pay" and first["total"] == "99.50"
    assert first["status_zh"] == "已下单"
    assert all(row["customer_id"] == "alice" for p in pages for row in p)

    bob = [row["customer_id"] for p in walk(http, "/orders?limit=3", auth("bob", "customer")) for row in p]
    assert bob == ["bob"] * 3
    # Staff filter by customer; a customer's filter cannot widen what they see.
    staff = walk(http, "/orders?limit=2&customer_id=bob", auth("support-1", "support_agent"))
    assert [len(p) for p in staff] == [2, 1]
    sneaky = walk(http, "/orders?customer_id=bob", auth("alice", "customer"))
    assert {row["customer_id"] for p in sneaky for row in p} == {"alice"}
    assert http.get("/orders?status=stored", headers=auth("support-1", "support_agent")).json()["items"] == []
    assert http.get("/orders", headers=auth("packer-1", "warehouse_staff")).status_code == 403


def test_any_cursor_is_a_place_in_the_order_and_a_malformed_one_is_not_echoed(settings):
    http, store = client(settings, order_views.router, "orders")
    project(store, order_views.TIMELINE, [order_placed("alice") for _ in range(2)])
    before_everything = http.get("/orders?cursor=0", headers=auth("alice", "customer"))
    assert before_everything.status_code == 200 and before_everything.json() == {"items": [], "next": None}
    after_everything = http.get("/orders?cursor=z", headers=auth("alice", "customer")).json()["items"]
    assert len(after_everything) == 2
    card = "4111-1111-1111-1111 x"
    response = http.get("/orders", params={"cursor": card}, headers=auth("alice", "customer"))
    assert response.status_code == 422 and "4111" not in response.text
    assert decode_cursor(encode_cursor(["2026", "id"])) == ["2026", "id"]


def items_of(customer: str, order_id: uuid.UUID, n: int) -> list[EventPayload]:
    code = code_for(customer, order_id, n)
    received = ItemReceived(traceability_code=code, order_id=order_id, customer_id=customer, line_no=1,
                            task_id=uuid.uuid4(), tracking_number="SF1", platform="taobao", item_id="1",
                            sku="vase", quantity_expected=1, category="fragile", amount_paid="10.00",
                            merchant_id="m-1", merchant_name="Shop", platform_order_no="TB1",
                            receipt_ref="receipt://1", staff_id="packer-1")
    inspected = ItemInspected(traceability_code=code, order_id=order_id, customer_id=customer, line_no=1,
                              quantity_checked=1, exterior_condition="intact", photos=[f"photo://{code}/1"],
                              passed=True, issues=[], staff_id="packer-1")
    stored = ItemStored(traceability_code=code, order_id=order_id, location="A-01", staff_id="packer-1")
    return [received, inspected, stored]


def test_my_items_page_with_photos_and_storage_days(settings):
    http, store = client(settings, warehouse_views.router, "warehouse")
    payloads = []
    for n in range(8):
        payloads += items_of("alice" if n % 4 else "bob", uuid.uuid4(), n)
    project(store, warehouse_views.TRACEABILITY, payloads)
    pages = walk(http, "/me/items?limit=2", auth("alice", "customer"))
    assert [len(p) for p in pages] == [2, 2, 2]
    item = pages[0][0]
    assert item["state"] == "stored" and item["photos"] == [f"photo://{item['traceability_code']}/1"]
    assert item["storage"]["days_used"] > 90 and item["storage"]["state"] in ("fees_accruing", "abandoned")
    assert len({i["traceability_code"] for p in pages for i in p}) == 6
    assert walk(http, "/me/items", auth("bob", "customer"))[0][0]["traceability_code"] not in {
        i["traceability_code"] for p in pages for i in p}
    assert http.get("/me/items", headers=auth("packer-1", "warehouse_staff")).status_code == 403


def test_my_parcels_and_claims_page_and_stay_mine(settings):
    parcels_http, parcels = client(settings, parcel_views.router, "logistics")
    claims_http, claims = client(settings, claims_views.router, "claims")
    requested, opened = [], []
    for n in range(7):
        customer = "alice" if n != 3 else "bob"
        parcel_id, order_id = uuid.uuid4(), uuid.uuid4()
        requested.append(ConsolidationRequested(parcel_id=parcel_id, customer_id=customer, order_ids=[order_id],
                                                traceability_codes=["X"], destination_country="GB"))
        opened.append(ClaimOpened(claim_id=uuid.uuid4(), parcel_id=parcel_id, customer_id=customer,
                                  order_ids=[order_id], kind="damaged", traceability_code=None,
                                  description="cracked", photos=[]))
    project(parcels, parcel_views.PARCELS, requested)
    project(claims, claims_views.COMPENSATION_DECISIONS, opened)
    parcel_pages = walk(parcels_http, "/me/parcels?limit=2", auth("alice", "customer"))
    claim_pages = walk(claims_http, "/me/claims?limit=2", auth("alice", "customer"))
    assert [len(p) for p in parcel_pages] == [2, 2, 2] and [len(p) for p in claim_pages] == [2, 2, 2]
    assert [p["parcel_id"] for page in parcel_pages for p in page] == [
        str(r.parcel_id) for r in reversed(requested) if r.customer_id == "alice"]
    assert parcel_pages[0][0]["status"] == "requested"
    assert {c["customer_id"] for page in claim_pages for c in page} == {"alice"}
    bob = walk(claims_http, "/me/claims", auth("bob", "customer"))
    assert [c["claim_id"] for c in bob[0]] == [str(opened[3].claim_id)]

"""The orders service in process: its gateway and its reactions to fraud."""

from decimal import Decimal

import pytest

from contracts.fraud import OrderCleared, OrderFlagged
from services.orders.bootstrap import bootstrap
from tests.apptest import ServiceHarness

ORDER = {"destination_country": "GB", "items": [
    {"product_url": "https://item.jd.com/100012043978.html", "sku": "black", "quantity": 1, "unit_price": "50.00"}]}


@pytest.fixture
def orders(tmp_path):
    return ServiceHarness(bootstrap, tmp_path)


def test_place_pay_and_clear(orders):
    alice = orders.as_("alice", "customer")
    order = orders.client.post("/orders", json=ORDER, headers=alice).json()
    payment = orders.client.post(f"/orders/{order['order_id']}/payments", headers={**alice, "Idempotency-Key": "k-000001"},
                                 json={"amount": order["quote"]["total"], "method": "paypal", "provider_reference": "PAY-1"})
    assert payment.status_code == 201
    assert orders.react(OrderCleared(order_id=order["order_id"], payment_id=payment.json()["payment_id"])) == "handled"
    view = orders.client.get(f"/orders/{order['order_id']}", headers=alice).json()
    assert view["status"] == "confirmed"
    assert orders.published_types() == ["orders.OrderPlaced", "orders.PaymentRecorded", "orders.OrderConfirmed"]


def test_the_same_event_twice_has_one_effect(orders):
    alice = orders.as_("alice", "customer")
    order = orders.client.post("/orders", json=ORDER, headers=alice).json()
    orders.client.post(f"/orders/{order['order_id']}/payments", headers={**alice, "Idempotency-Key": "k-000001"},
                       json={"amount": order["quote"]["total"], "method": "paypal", "provider_reference": "PAY-1"})
    flagged = OrderFlagged(order_id=order["order_id"], payment_id=order["order_id"], reasons=["duplicate payment"])
    assert orders.react(flagged, event_id="7d0c7c36-5a63-4b8e-9d0e-3d3c8c1f5b11") == "handled"
    assert orders.react(flagged, event_id="7d0c7c36-5a63-4b8e-9d0e-3d3c8c1f5b11") == "duplicate"
    assert orders.published_types().count("orders.OrderHeld") == 1


def test_quote_is_the_price_the_customer_pays(orders):
    alice = orders.as_("alice", "customer")
    order = orders.client.post("/orders", json=ORDER, headers=alice).json()
    wrong = orders.client.post(f"/orders/{order['order_id']}/payments", headers={**alice, "Idempotency-Key": "k-000002"},
                               json={"amount": "1.00", "method": "paypal", "provider_reference": "PAY-1"})
    assert wrong.status_code == 422 and order["quote"]["total"] in wrong.json()["detail"]
    assert sum(Decimal(l["amount"]) for l in order["quote"]["lines"]) == Decimal(order["quote"]["total"])


def test_the_same_idempotency_key_places_one_order(orders):
    alice = {**orders.as_("alice", "customer"), "Idempotency-Key": "place-000001"}
    first = orders.client.post("/orders", json=ORDER, headers=alice)
    again = orders.client.post("/orders", json=ORDER, headers=alice)
    assert first.status_code == again.status_code == 201
    assert first.json()["order_id"] == again.json()["order_id"]
    assert orders.published_types() == ["orders.OrderPlaced"]
    other = orders.client.post("/orders", json={**ORDER, "destination_country": "DE"}, headers=alice)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    # Another customer's key is theirs alone, and no key means a new order each time.
    bob = orders.client.post("/orders", json=ORDER, headers={**orders.as_("bob", "customer"),
                                                             "Idempotency-Key": "place-000001"})
    assert bob.status_code == 201 and bob.json()["order_id"] != first.json()["order_id"]
    no_key = [orders.client.post("/orders", json=ORDER, headers=orders.as_("alice", "customer")) for _ in range(2)]
    assert no_key[0].json()["order_id"] != no_key[1].json()["order_id"]
    assert orders.published_types().count("orders.OrderPlaced") == 4

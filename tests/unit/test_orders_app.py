"""The orders service in process: its gateway and its reactions to fraud."""

from decimal import Decimal

import pytest

from uuid import uuid4

from contracts.fraud import OrderCleared, OrderFlagged
from contracts.payments import PaymentFailed, PaymentSucceeded
from services.orders.bootstrap import bootstrap
from tests.apptest import ServiceHarness

ORDER = {"destination_country": "GB", "items": [
    {"product_url": "https://item.jd.com/100012043978.html", "sku": "black", "quantity": 1, "unit_price": "50.00"}]}


@pytest.fixture
def orders(tmp_path):
    return ServiceHarness(bootstrap, tmp_path)


def confirmed_payment(order: dict, **changes) -> PaymentSucceeded:
    return PaymentSucceeded(**{"payment_id": uuid4(), "order_id": order["order_id"], "customer_id": "alice",
                               "purpose": "order", "amount": order["quote"]["total"], "currency": "CNY",
                               "method": "card", "provider": "stripe", **changes})


def test_only_a_payment_the_payments_service_confirmed_pays_the_order(orders):
    alice = orders.as_("alice", "customer")
    order = orders.client.post("/orders", json=ORDER, headers=alice).json()
    word = orders.client.post(f"/orders/{order['order_id']}/payments", headers={**alice, "Idempotency-Key": "k-000001"},
                              json={"amount": order["quote"]["total"], "method": "paypal", "provider_reference": "PAY-1"})
    assert word.status_code in (404, 405)  # the customer's word is no payment
    failed = PaymentFailed(**{**confirmed_payment(order).model_dump(), "reason": "declined: Your card was declined."})
    orders.react(failed)
    view = orders.client.get(f"/orders/{order['order_id']}", headers=alice).json()
    assert view["status"] == "awaiting_payment" and view["failed_payments"][0]["reason"].startswith("declined")
    paid = confirmed_payment(order)
    assert orders.react(paid) == "handled"
    orders.react(paid)  # redelivered under another event id: the payment id stops it
    assert orders.react(OrderCleared(order_id=order["order_id"], payment_id=paid.payment_id)) == "handled"
    view = orders.client.get(f"/orders/{order['order_id']}", headers=alice).json()
    assert view["status"] == "confirmed" and len(view["payments"]) == 1
    assert orders.published_types() == ["orders.OrderPlaced", "orders.PaymentRecorded", "orders.OrderConfirmed"]


def test_the_same_event_twice_has_one_effect(orders):
    alice = orders.as_("alice", "customer")
    order = orders.client.post("/orders", json=ORDER, headers=alice).json()
    orders.react(confirmed_payment(order))
    flagged = OrderFlagged(order_id=order["order_id"], payment_id=order["order_id"], reasons=["duplicate payment"])
    assert orders.react(flagged, event_id="7d0c7c36-5a63-4b8e-9d0e-3d3c8c1f5b11") == "handled"
    assert orders.react(flagged, event_id="7d0c7c36-5a63-4b8e-9d0e-3d3c8c1f5b11") == "duplicate"
    assert orders.published_types().count("orders.OrderHeld") == 1


def test_quote_lines_add_up_to_the_total(orders):
    alice = orders.as_("alice", "customer")
    order = orders.client.post("/orders", json=ORDER, headers=alice).json()
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

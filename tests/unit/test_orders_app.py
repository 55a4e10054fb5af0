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

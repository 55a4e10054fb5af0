"""A held order is resolved by a risk analyst: released (it proceeds, a duplicate payment goes
back) or cancelled (everything paid goes back), each an event with analyst, reason and rule version."""

from decimal import Decimal
from uuid import uuid4

import pytest

from contracts.orders import OrderPlaced, PaymentRecorded
from services.fraud.bootstrap import bootstrap as fraud_bootstrap
from services.fraud.rules import RULES_VERSION
from services.orders.domain import CANCELLED, CONFIRMED, Order


@pytest.fixture
def fraud(tmp_path):
    from tests.apptest import ServiceHarness

    return ServiceHarness(fraud_bootstrap, tmp_path)


def held(fraud) -> str:
    order_id = uuid4()
    fraud.react(OrderPlaced.model_validate({
        "order_id": str(order_id), "customer_id": "alice", "destination_country": "GB",
        "lines": [{"line_no": 1, "platform": "jd", "item_id": "1", "product_url": "https://item.jd.com/1.html",
                   "sku": "s", "quantity": 1, "unit_price": "10.00"}],
        "quote": {"currency": "CNY", "lines": [], "total": "10.00", "rules_version": "t"}}))
    for _ in range(2):
        fraud.react(PaymentRecorded(order_id=order_id, payment_id=uuid4(), amount=Decimal("10.00"), currency="CNY",
                                    method="card"))
    return str(order_id)


def test_the_queue_shows_held_orders_with_reasons_and_an_analyst_resolves_them(fraud):
    order_id = held(fraud)
    analyst = fraud.as_("risk-1", "risk_analyst")
    queue = fraud.client.get("/fraud/review-queue", headers=analyst).json()
    (case,) = [c for c in queue if c["order_id"] == order_id]
    assert case["held"] and "duplicate payment" in case["decisions"][-1]["reasons"][0]
    assert fraud.client.post(f"/fraud/cases/{order_id}/review", json={"decision": "release", "reason": "ok"},
                             headers=fraud.as_("alice", "customer")).status_code == 403
    released = fraud.client.post(f"/fraud/cases/{order_id}/review", headers=analyst,
                                 json={"decision": "release", "reason": "the customer double-clicked"})
    assert released.status_code == 200 and released.json()["review"]["analyst"] == "risk-1"
    again = fraud.client.post(f"/fraud/cases/{order_id}/review", headers=analyst,
                              json={"decision": "cancel_and_refund", "reason": "changed my mind"})
    assert again.status_code == 409  # one resolution per hold
    assert order_id not in [c["order_id"] for c in fraud.client.get("/fraud/review-queue", headers=analyst).json()]
    (event,) = [e for e in fraud.published() if e.type == "fraud.ReviewReleased"]
    assert event.payload["rules_version"] == RULES_VERSION and event.actor == "risk_analyst:risk-1"


def paid_twice() -> Order:
    quote = {"currency": "CNY", "lines": [], "total": Decimal("100.00"), "rules_version": "t"}
    order = Order(customer_id="alice", destination_country="GB", quote=quote,
                  lines=[{"line_no": 1, "platform": "jd", "item_id": "1", "product_url": "u", "sku": "s",
                          "quantity": 1, "unit_price": Decimal("90.00")}])
    order.record_payment(uuid4(), Decimal("100.00"), "card", "stripe")
    order.record_payment(uuid4(), Decimal("100.00"), "card", "stripe")
    order.apply_flag(["duplicate payment"])
    return order


def test_release_confirms_and_gives_the_second_payment_back():
    order = paid_twice()
    order.release(refund_id=uuid4())
    order.release(refund_id=uuid4())  # again: nothing more
    assert order.status == CONFIRMED and [r["amount"] for r in order.refunds] == [Decimal("100.00")]


def test_cancel_and_refund_gives_everything_back_once():
    order = paid_twice()
    order.cancel_after_review("cancelled after payment review: fraud", refund_id=uuid4())
    order.cancel_after_review("cancelled after payment review: fraud", refund_id=uuid4())
    assert order.status == CANCELLED and order.cancelled_lines == [1]
    assert [r["amount"] for r in order.refunds] == [Decimal("200.00")]

"""The branches of the lifecycle on the stack: failed inspection, price change, restricted line,
duplicate carrier webhook."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kongfu.demo import Lifecycle
from kongfu.local import wait_until
from services.logistics.carriers import FakeCarrier
from tests.support import CARRIER_SECRET, token

MUG = {"product_url": "https://detail.1688.com/offer/623456789012.html", "sku": "mug", "quantity": 2,
       "unit_price": "12.00"}
PHONE = {"product_url": "https://item.jd.com/100012043978.html", "sku": "phone 128GB", "quantity": 1,
         "unit_price": "1999.00"}


@pytest.fixture
def trip(platform_on_stack) -> Lifecycle:
    return Lifecycle(platform_on_stack, lambda s, r: token(s, r), FakeCarrier(CARRIER_SECRET).webhook)


def test_failed_inspection_then_refund(trip):
    order = trip.place_and_pay([MUG])
    (task,) = trip.tasks(order["order_id"], 1)
    code = trip.receive(order["order_id"], trip.purchase_and_ship(task, "general", "24.00"), 1)
    trip.inspect_and_store(code, 2, high_risk=False, passed=False)  # one mug short

    asked = trip.wait_order(order["order_id"], lambda o: o["pending_decisions"], "the customer to be asked")
    (question,) = asked["pending_decisions"]
    assert question["kind"] == "qc_failed" and len(question["details"]["photos"]) == 3
    assert "refund" in question["choices"]
    after = trip.as_customer("orders", "POST", f"/orders/{order['order_id']}/lines/1/decision",
                             json={"choice": "refund"}).json()
    assert after["lines"][0]["status"] == "cancelled"
    assert Decimal(after["refunds"][0]["amount"]) == Decimal(order["quote"]["total"])  # the only line: all of it
    stages = [e["stage"] for e in trip.timeline_until(order["order_id"], "refund_issued")]
    assert stages.index("quality_inspection") < stages.index("inspection_resolution") < stages.index("refund_issued")


def test_price_change_accepted_then_purchased(trip):
    order = trip.place_and_pay([MUG])
    (task,) = trip.tasks(order["order_id"], 1)
    trip.call("purchasing", "POST", f"/purchasing/tasks/{task['task_id']}/price-change", "purchasing_agent",
              json={"new_unit_price": "15.00"})
    asked = trip.wait_order(order["order_id"], lambda o: o["pending_decisions"], "the customer to be asked")
    assert asked["pending_decisions"][0]["kind"] == "price_change"
    typed = trip.as_customer("orders", "POST", f"/orders/{order['order_id']}/lines/1/decision", expect=422, json={
        "choice": "accept_new_price",
        "payment": {"amount": "6.00", "method": "stripe", "provider_reference": "pi_difference_1"}})
    assert "payment" in typed.text  # a typed reference is no payment: the difference is paid at payments
    accepted = trip.as_customer("orders", "POST", f"/orders/{order['order_id']}/lines/1/decision",
                                json={"choice": "accept_new_price"}).json()
    assert accepted["lines"][0]["status"] == "awaiting_price_difference_payment"
    [due] = accepted["price_differences_due"]
    assert due["amount"] == "6.00"  # (15 - 12) x 2, paid at payments by card (the Stripe fake)
    wait_until(lambda: trip.as_customer("payments", "POST", due["pay_at"], expect=(201, 404),
                                        headers={"Idempotency-Key": f"difference-{order['order_id']}"},
                                        json={"method": "card", "payment_token": "pm_card_visa"}).status_code == 201,
               what="payments to take the price difference")
    again = trip.as_customer("payments", "POST", due["pay_at"], expect=409, headers={"Idempotency-Key": "another-key-1"},
                             json={"method": "card", "payment_token": "pm_card_visa"})
    assert again.status_code == 409  # pending or paid: never charged twice
    paid = trip.wait_order(order["order_id"], lambda o: o["lines"][0]["status"] == "active", "the new price to stand")
    assert paid["lines"][0]["unit_price"] == "15.00"

    def purchasable():
        response = trip.call("purchasing", "POST", f"/purchasing/tasks/{task['task_id']}/purchase",
                             "purchasing_agent", expect=(201, 200, 409), json={
                                 "platform_order_no": "1688-A1001", "amount_paid": "30.00", "merchant_id": "m1",
                                 "merchant_name": "Yiwu Mugs", "receipt_ref": "receipt://1688/A1001", "category": "general"})
        return response.status_code in (200, 201)

    wait_until(purchasable, what="the task to open again at the new price")


def test_restricted_item_refused_on_a_line_with_the_reason(trip):
    order = trip.place_and_pay([PHONE])
    (task,) = trip.tasks(order["order_id"], 1)
    code = trip.receive(order["order_id"], trip.purchase_and_ship(task, "electronics", "1999.00"), 1)
    trip.inspect_and_store(code, 1, high_risk=True)
    parcel_id = trip.consolidate_and_pack([code])
    lines = trip.quotes(parcel_id)
    refused = [line for line in lines if line.get("refused")]
    assert refused and all("electronics" in line["reason"] for line in refused)
    line = refused[0]
    answer = trip.as_customer("logistics", "POST", f"/logistics/parcels/{parcel_id}/shipping", expect=422,
                              headers={"Idempotency-Key": f"ship-{parcel_id}"},
                              json={"line_code": line["code"], "amount": "100.00"})
    assert "electronics" in answer.json()["detail"]


def test_duplicate_carrier_webhook_gives_one_timeline_entry(trip):
    order = trip.place_and_pay([MUG])
    (task,) = trip.tasks(order["order_id"], 1)
    code = trip.receive(order["order_id"], trip.purchase_and_ship(task, "general", "24.00"), 1)
    trip.inspect_and_store(code, 2, high_risk=False)
    parcel_id = trip.consolidate_and_pack([code])
    tracking = trip.ship(parcel_id, [code])
    first = trip.carrier_update(tracking, "in_transit", "evt-dup-1")
    second = trip.carrier_update(tracking, "in_transit", "evt-dup-1")
    assert first.status_code == second.status_code == 200
    trip.carrier_update(tracking, "customs_cleared")
    stages = [e["stage"] for e in trip.timeline_until(order["order_id"], "customs_cleared")]
    assert stages.count("in_transit") == 1


def test_bad_carrier_signature_is_401(trip):
    headers, body = FakeCarrier("not-the-shared-secret").webhook("KF0000000000GB", "delivered", "evt-forged")
    response = trip.call("logistics", "POST", "/logistics/carrier-webhooks/fake-express", "", expect=401,
                         headers={**headers, "content-type": "application/json"}, content=body)
    assert response.headers["content-type"].startswith("application/problem+json")

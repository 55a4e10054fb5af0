"""PayPal on Kafka + PostgreSQL and on the embedded default: an order paid by PayPal through the
PayPal fake (approve, capture, signed webhook) with its surcharge line shown before paying, a replayed
webhook changing nothing, and a refund back to PayPal."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from kongfu.local import wait_until
from tests.e2e import journeys
from tests.support import auth


@pytest.fixture(params=["embedded", "platform_on_stack"])
def platform(request):
    """Embedded first: it starts before the module-wide platform, not beside it, on a busy machine."""
    return request.getfixturevalue(request.param)


def pay_by_paypal(platform: dict, customer: str, order: dict) -> dict:
    """Start at payments, approve at PayPal (the fake's approval page), capture."""
    started = wait_until(lambda: (r := journeys.pay(platform, customer, order, method="paypal", token=None))
                         .status_code != 404 and r, what="payments to know the order")
    assert started.status_code == 201, started.text
    payment = started.json()
    assert payment["status"] == "pending" and payment["approve_url"]
    assert httpx.get(payment["approve_url"], timeout=10).status_code == 200
    captured = httpx.post(f"{platform['payments']}/payments/{payment['payment_id']}/capture",
                          headers=auth(customer, "customer"), timeout=10)
    assert captured.status_code == 200 and captured.json()["status"] == "succeeded", captured.text
    return captured.json()


def ledger(platform: dict, customer: str) -> dict:
    return httpx.get(f"{platform['payments']}/me/ledger", headers=auth(customer, "customer"), timeout=10).json()


def delivered(paypal, payment_id: str, event_type: str) -> int:
    """The index of the webhook PayPal sent for this payment."""
    (index,) = wait_until(lambda: next(((i,) for i, (body, _) in enumerate(paypal.sent)
                                        if event_type.encode() in body and payment_id.encode() in body), None),
                          what=f"PayPal's {event_type} webhook")
    return index


def test_pay_by_paypal_with_its_surcharge_replay_nothing_and_refund_back_to_paypal(platform):
    paypal, customer = platform["paypal"], f"cust-{uuid.uuid4().hex[:8]}"
    headers = auth(customer, "customer")
    order = journeys.place_order(platform["orders"], customer, unit_price="50.00", quantity=2)
    total = Decimal(order["quote"]["total"])
    options = wait_until(lambda: (r := httpx.get(f"{platform['payments']}/payments/orders/{order['order_id']}/options",
                                                 headers=headers, timeout=10)).status_code == 200 and r.json(),
                         what="the payment options")
    by_paypal = next(o for o in options["options"] if o["method"] == "paypal")
    surcharge = (total * Decimal("0.034") + Decimal("2.35")).quantize(Decimal("0.01"))
    assert Decimal(by_paypal["surcharge"]) == surcharge and Decimal(by_paypal["total"]) == total + surcharge
    rules = httpx.get(f"{platform['payments']}/rules/payment-methods", timeout=10).json()
    assert rules["version"] == by_paypal["rule_version"]

    payment = pay_by_paypal(platform, customer, order)
    assert Decimal(payment["charged"]) == total + surcharge
    journeys.wait_for_status(platform["orders"], customer, order["order_id"], "confirmed")
    wait_until(lambda: sorted(m["kind"] for m in ledger(platform, customer)["movements"])
               == ["paypal_charge", "paypal_surcharge"], what="the charge and its surcharge line on the ledger")

    # PayPal's signed webhook arrived (a duplicate of the capture's answer); sent again, it changes nothing.
    index = delivered(paypal, payment["payment_id"], "PAYMENT.CAPTURE.COMPLETED")
    before = ledger(platform, customer)
    assert paypal.replay(index) == 200
    assert ledger(platform, customer) == before
    assert len(journeys.get_order(platform["orders"], customer, order["order_id"])["payments"]) == 1

    # A second PayPal payment of the same order is held; the analyst cancels: everything paid,
    # both surcharges included, comes back to the balance, and from there back to PayPal.
    second = pay_by_paypal(platform, customer, order)
    journeys.wait_for_status(platform["orders"], customer, order["order_id"], "on_hold")
    review = httpx.post(f"{platform['fraud']}/fraud/cases/{order['order_id']}/review",
                        headers=auth("risk-1", "risk_analyst"), timeout=10,
                        json={"decision": "cancel_and_refund", "reason": "paid twice by mistake"})
    assert review.status_code == 200, review.text
    paid = Decimal(payment["charged"]) + Decimal(second["charged"])
    wait_until(lambda: Decimal(ledger(platform, customer)["balance"]) == paid, what="the refund with its surcharge")
    withdrawal = httpx.post(f"{platform['payments']}/me/withdrawals", json={"amount": str(paid)}, timeout=20,
                            headers={**headers, "Idempotency-Key": f"withdraw-{uuid.uuid4()}"})
    assert withdrawal.status_code == 201, withdrawal.text
    refunded = [r for r in paypal.refunds.values()
                if r["custom_id"] in (payment["payment_id"], second["payment_id"])]
    assert sum(Decimal(r["amount"]["value"]) for r in refunded) == paid and len(refunded) == 2
    assert Decimal(ledger(platform, customer)["balance"]) == 0

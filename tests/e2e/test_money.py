"""Money the customer can trust, on Kafka + PostgreSQL and on the embedded default: a card payment
confirmed by Stripe's signed webhook (the Stripe fake), a QC-fail refund credited to the balance,
a withdrawal back to the card, provider failures, and a replayed webhook."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import httpx
import pytest

from kongfu.demo import Lifecycle
from kongfu.local import wait_until
from services.logistics.carriers import FakeCarrier
from services.payments.providers.fake_stripe import DECLINED, TIMEOUT
from tests.e2e import journeys
from tests.support import CARRIER_SECRET, auth, token

MUG = {"product_url": "https://detail.1688.com/offer/623456789012.html", "sku": "mug", "quantity": 2,
       "unit_price": "12.00"}


@pytest.fixture(params=["platform_on_stack", "embedded"])
def platform(request):
    return request.getfixturevalue(request.param)


def money_of(platform: dict, customer: str) -> tuple[Decimal, dict]:
    """The balance and the ledger; the ledger's balance is always the sum of its movements."""
    headers = auth(customer, "customer")
    balance = httpx.get(f"{platform['payments']}/me/balance", headers=headers).json()
    ledger = httpx.get(f"{platform['payments']}/me/ledger", headers=headers).json()
    assert Decimal(ledger["balance"]) == sum((Decimal(m["balance_change"]) for m in ledger["movements"]), Decimal(0))
    return Decimal(balance["balance"]), ledger


def settled(platform: dict, customer: str, balance: str, kinds: list[str]) -> dict:
    def probe():
        current, ledger = money_of(platform, customer)
        return current == Decimal(balance) == Decimal(ledger["balance"]) and \
            [m["kind"] for m in ledger["movements"]] == kinds and ledger

    return wait_until(probe, timeout=30, what=f"balance {balance} with movements {kinds}")


def test_card_payment_qc_refund_to_the_balance_and_withdrawal_to_the_card(platform):
    trip = Lifecycle(platform, lambda s, r: token(s, r), FakeCarrier(CARRIER_SECRET).webhook)
    stripe = platform["stripe"]
    order = trip.place_and_pay([MUG])  # by card; confirmed only after Stripe's signed webhook
    total = order["quote"]["total"]
    (intent,) = [i for i in stripe.intents.values() if i["amount"] == int(Decimal(total) * 100)
                 and i["metadata"]["kongfu_payment_id"]][-1:]
    settled(platform, trip.customer, "0.00", ["card_charge"])

    (task,) = trip.tasks(order["order_id"], 1)
    code = trip.receive(order["order_id"], trip.purchase_and_ship(task, "general", "24.00"), 1)
    trip.inspect_and_store(code, 2, high_risk=False, passed=False)
    trip.wait_order(order["order_id"], lambda o: o["pending_decisions"], "the customer to be asked")
    trip.as_customer("orders", "POST", f"/orders/{order['order_id']}/lines/1/decision", json={"choice": "refund"})
    ledger = settled(platform, trip.customer, total, ["card_charge", "refund"])
    refund = ledger["movements"][1]
    assert refund["order_id"] == order["order_id"] and "failed inspection" in refund["reason"]
    stages = [e["stage"] for e in trip.timeline_until(order["order_id"], "balance_credited")]
    assert stages.index("refund_issued") < stages.index("balance_credited")

    headers = {**auth(trip.customer, "customer"), "Idempotency-Key": f"withdraw-{uuid.uuid4()}"}
    too_much = httpx.post(f"{platform['payments']}/me/withdrawals", json={"amount": "100000.00"}, headers=headers)
    assert too_much.status_code == 402 and too_much.headers["content-type"].startswith("application/problem+json")
    out = httpx.post(f"{platform['payments']}/me/withdrawals", json={"amount": total}, headers=headers)
    assert out.status_code == 201, out.text
    again = httpx.post(f"{platform['payments']}/me/withdrawals", json={"amount": total}, headers=headers)
    assert again.status_code == 201  # the same Idempotency-Key: no second withdrawal
    settled(platform, trip.customer, "0.00", ["card_charge", "refund", "withdrawal"])
    refunds = [r for r in stripe.refunds.values() if r["payment_intent"] == intent["id"]]
    assert [r["amount"] for r in refunds] == [int(Decimal(total) * 100)]  # back to the card, once


def test_declined_and_timed_out_cards_leave_the_order_unpaid_and_a_replayed_webhook_changes_nothing(platform):
    customer = f"cust-{uuid.uuid4().hex[:8]}"
    order = journeys.place_order(platform["orders"], customer)
    declined = wait_until(lambda: (r := journeys.pay(platform, customer, order, token=DECLINED)).status_code != 404
                          and r, what="payments to know the order")
    assert declined.status_code == 402 and "declined" in declined.json()["detail"]
    timed_out = journeys.pay(platform, customer, order, token=TIMEOUT)
    assert timed_out.status_code == 504 and "in time" in timed_out.json()["detail"]
    unpaid = wait_until(lambda: (o := journeys.get_order(platform["orders"], customer, order["order_id"]))
                        and len(o["failed_payments"]) == 2 and o, what="both failures on the order")
    assert unpaid["status"] == "awaiting_payment" and unpaid["payments"] == []
    assert any("declined" in f["reason"] for f in unpaid["failed_payments"])

    assert journeys.pay(platform, customer, order).status_code == 201
    before = journeys.wait_for_status(platform["orders"], customer, order["order_id"], "confirmed")
    stripe = platform["stripe"]
    succeeded = [i for i, (payload, _) in enumerate(stripe.sent) if "payment_intent.succeeded" in payload]
    assert succeeded and {stripe.replay(i) for i in succeeded} == {200}  # accepted, and ignored
    time.sleep(2)  # time for a (wrong) second effect to travel through the topics
    after = journeys.get_order(platform["orders"], customer, order["order_id"])
    assert after["version"] == before["version"] and len(after["payments"]) == 1


def test_held_for_a_duplicate_payment_then_released_or_cancelled_by_an_analyst(platform):
    analyst = auth("risk-1", "risk_analyst")
    customer = f"cust-{uuid.uuid4().hex[:8]}"
    orders = []
    for _ in range(2):
        order = journeys.place_order(platform["orders"], customer)
        assert journeys.wait_for_bill(platform, customer, order).status_code == 201
        assert journeys.pay(platform, customer, order).status_code == 201  # paid twice
        orders.append(journeys.wait_for_status(platform["orders"], customer, order["order_id"], "on_hold"))
    released, cancelled = orders
    queue = httpx.get(f"{platform['fraud']}/fraud/review-queue", headers=analyst).json()
    assert {released["order_id"], cancelled["order_id"]} <= {c["order_id"] for c in queue}

    def review(order: dict, decision: str) -> None:
        response = httpx.post(f"{platform['fraud']}/fraud/cases/{order['order_id']}/review", headers=analyst,
                              json={"decision": decision, "reason": "checked with the customer"})
        assert response.status_code == 200, response.text

    review(released, "release")
    journeys.wait_for_status(platform["orders"], customer, released["order_id"], "confirmed")
    # The release lifts the hold at purchasing too: the tasks open with nothing holding them.
    tasks = Lifecycle(platform, lambda s, r: token(s, r), None, customer=customer).tasks(
        released["order_id"], len(released["lines"]))
    assert [t["on_hold"] for t in tasks] == [False] * len(released["lines"]), tasks
    review(cancelled, "cancel_and_refund")
    journeys.wait_for_status(platform["orders"], customer, cancelled["order_id"], "cancelled")
    # The released order's second payment and everything paid for the cancelled one: in the ledger.
    total = Decimal(released["quote"]["total"])
    ledger = settled(platform, customer, str(total * 3), ["card_charge"] * 4 + ["refund"] * 2)
    assert {m["order_id"] for m in ledger["movements"] if m["kind"] == "refund"} == \
        {released["order_id"], cancelled["order_id"]}
    stages = [e["stage"] for e in Lifecycle(platform, lambda s, r: token(s, r), None, customer=customer)
              .timeline_until(cancelled["order_id"], "review_cancelled")]
    assert stages.index("order_on_hold") < stages.index("review_cancelled")

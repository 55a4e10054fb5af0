"""A payment no provider heard of is given up at its deadline: saved by a request that ended before
asking (or before saving the answer), and never repeated, it would otherwise stay pending forever
and hold its bill, which refuses a second payment while one is pending."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from service_runtime.clock import ManualClock
from service_runtime.timers import TimerScheduler
from service_runtime.tracing import stable_id
from services.payments.deadlines import SUBMISSION_DEADLINE
from tests.unit.test_payments_app import (ProcessKilled, balance, deliver_webhooks, fake_stripe,  # noqa: F401
                                          pay, payments, placed)
from tests.unit.test_shipping_bills import billed, pay_shipping

MINUTES = SUBMISSION_DEADLINE.total_seconds() / 60


@pytest.fixture
def clock(payments) -> ManualClock:
    payments.app.clock = ManualClock(datetime.now(timezone.utc))
    return payments.app.clock


@pytest.fixture
def scheduler(payments, clock) -> TimerScheduler:
    return TimerScheduler(payments.app, payments.parts.timers, clock, service="payments")


def dying(payments, monkeypatch, after_the_provider: bool = False):
    """The card provider's charge as a process that dies while asking it (before it heard of the
    payment), or right after it answered (it took the money, and the answer was never saved)."""
    provider = payments.app.providers["card"]
    charge = provider.charge

    def killed(*args, **kwargs):
        if after_the_provider:
            charge(*args, **kwargs)
        raise ProcessKilled()

    monkeypatch.setattr(provider, "charge", killed)
    return lambda: monkeypatch.setattr(provider, "charge", charge)


def status(payments, payment_id) -> dict:
    answer = payments.client.get(f"/payments/{payment_id}", headers=payments.as_("alice", "customer"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def failures(payments) -> list[dict]:
    return [e.payload for e in payments.published() if e.type == "payments.PaymentFailed"]


def test_a_payment_never_submitted_fails_at_its_deadline_and_the_order_can_be_paid_again(
        payments, fake_stripe, clock, scheduler, monkeypatch):
    order_id = placed(payments)
    revive = dying(payments, monkeypatch)
    with pytest.raises(ProcessKilled):
        pay(payments, order_id, key="first-attempt-key")
    revive()
    payment_id = stable_id("payment", order_id, "first-attempt-key")  # as the gateway names the key's payment

    clock.advance(minutes=MINUTES - 1)
    assert scheduler.fire_due() == 0
    assert status(payments, payment_id)["status"] == "pending" and failures(payments) == []

    clock.advance(minutes=1)
    assert scheduler.fire_due() == 1
    assert status(payments, payment_id)["status"] == "failed"
    (failed,) = failures(payments)
    assert failed["payment_id"] == str(payment_id) and failed["reason"].startswith("abandoned: ")
    assert fake_stripe.intents == {}  # nothing was sent, so nothing was charged

    repeated = pay(payments, order_id, key="first-attempt-key")
    assert repeated.status_code == 409 and repeated.json()["title"] == "Payment abandoned", repeated.text
    assert "new Idempotency-Key" in repeated.json()["detail"]
    again = pay(payments, order_id, key="second-attempt-key")
    assert again.status_code == 201, again.text
    assert deliver_webhooks(payments, fake_stripe) == [{"result": "applied"}]
    assert status(payments, again.json()["payment_id"])["status"] == "succeeded"
    assert scheduler.fire_due() == 0  # the second payment's deadline is 15 minutes away still
    clock.advance(minutes=MINUTES)
    assert scheduler.fire_due() == 1 and len(failures(payments)) == 1  # reached the provider: nothing to give up


def test_a_bill_held_by_a_payment_never_submitted_is_paid_once_it_is_given_up(
        payments, fake_stripe, clock, scheduler, monkeypatch):
    parcel_id = billed(payments)
    revive = dying(payments, monkeypatch)
    with pytest.raises(ProcessKilled):
        pay_shipping(payments, parcel_id, method="card", key="first-attempt-key")
    revive()
    held = pay_shipping(payments, parcel_id, method="card", key="second-attempt-key")
    assert held.status_code == 409 and "is pending" in held.json()["detail"], held.text

    clock.advance(minutes=MINUTES)
    assert scheduler.fire_due() == 1
    paid = pay_shipping(payments, parcel_id, method="card", key="second-attempt-key")
    assert paid.status_code == 201, paid.text
    deliver_webhooks(payments, fake_stripe)
    bill = payments.client.get(f"/payments/shipping/{parcel_id}", headers=payments.as_("alice", "customer")).json()
    assert bill["paid"] is True and len(fake_stripe.intents) == 1


def test_money_a_provider_took_for_a_payment_given_up_goes_to_the_balance(
        payments, fake_stripe, clock, scheduler, monkeypatch):
    """The process died after the provider took the money and before the answer was saved, and
    the provider's webhook comes only after the deadline: the order stays unpaid, and the money
    is credited to the customer's balance, not lost."""
    order_id = placed(payments)
    revive = dying(payments, monkeypatch, after_the_provider=True)
    with pytest.raises(ProcessKilled):
        pay(payments, order_id)
    revive()
    clock.advance(minutes=MINUTES)
    assert scheduler.fire_due() == 1 and len(failures(payments)) == 1

    assert deliver_webhooks(payments, fake_stripe) == [{"result": "applied"}]
    assert balance(payments) == Decimal("248.00")
    types = payments.published_types()
    assert "payments.PaymentSucceeded" not in types
    (credit,) = [e.payload for e in payments.published() if e.type == "payments.BalanceCredited"]
    assert credit["kind"] == "late_confirmation" and credit["order_id"] == str(order_id)

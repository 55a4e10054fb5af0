"""PayPal: the published surcharge rule, webhook self-verification, and payments paying through the
PayPal fake (a real HTTP server speaking PayPal's REST shapes, signing webhooks with its own key)."""

import time
import uuid
from decimal import Decimal

import httpx
import pytest

from contracts.orders import RefundIssued
from services.payments.bootstrap import bootstrap
from services.payments.providers import WebhookRejected
from services.payments.providers.fake_paypal import FakePayPal
from services.payments.providers.paypal import PayPalWebhookVerifier
from services.payments.surcharges import SURCHARGE_VERSION, options, surcharge_for, surcharge_refund
from tests.apptest import ServiceHarness
from tests.unit.test_payments_app import balance, placed

CLIENT, SECRET, WEBHOOK_ID = "unit-paypal-client", "unit-paypal-secret", "WH-UNIT"


# The surcharge rule ---------------------------------------------------------------------------

def test_paypal_costs_its_published_surcharge_and_other_methods_nothing():
    assert surcharge_for("paypal", Decimal("100.00")) == Decimal("5.75")  # 3.4 % + 2.35
    assert surcharge_for("paypal", Decimal("248.00")) == Decimal("10.78")  # 8.432 + 2.35, half up
    assert surcharge_for("card", Decimal("248.00")) == surcharge_for("balance", Decimal("248.00")) == Decimal("0.00")
    assert surcharge_for("paypal", Decimal("0")) == Decimal("0.00")
    paypal, card = [o for o in options(Decimal("100.00"), ["paypal", "card"])]
    assert (paypal["surcharge"], paypal["total"], paypal["rule_version"]) == ("5.75", "105.75", SURCHARGE_VERSION)
    assert (card["surcharge"], card["total"]) == ("0.00", "100.00")


def test_refunds_return_the_surcharge_in_proportion_and_all_of_it_when_refunded_in_full():
    surcharge, paid = Decimal("10.78"), Decimal("248.00")
    first = surcharge_refund(surcharge, paid, Decimal(0), Decimal("100.00"), Decimal(0))
    assert first == Decimal("4.35")  # 10.78 × 100 / 248
    rest = surcharge_refund(surcharge, paid, Decimal("100.00"), Decimal("148.00"), first)
    assert first + rest == surcharge  # no fen kept by rounding
    assert surcharge_refund(Decimal(0), paid, Decimal(0), paid, Decimal(0)) == Decimal("0.00")
    assert surcharge_refund(surcharge, paid, paid, Decimal("5.00"), surcharge) == Decimal("0.00")


# Webhook self-verification ---------------------------------------------------------------------

@pytest.fixture
def fake_paypal():
    fake = FakePayPal(CLIENT, SECRET, WEBHOOK_ID).start()
    yield fake
    fake.stop()


def verifier(fake, now=time.time, webhook_id=WEBHOOK_ID) -> PayPalWebhookVerifier:
    return PayPalWebhookVerifier(fake.url, webhook_id, lambda url: httpx.get(url).content, now=now)


def test_a_webhook_signed_by_the_certificate_on_the_paypal_host_verifies(fake_paypal):
    body = fake_paypal.event("PAYMENT.CAPTURE.COMPLETED", "capture", {"id": "3C1", "custom_id": str(uuid.uuid4())})
    assert verifier(fake_paypal).verify(body, fake_paypal.signed(body))["event_type"] == "PAYMENT.CAPTURE.COMPLETED"


def test_a_tampered_body_a_foreign_certificate_url_a_stale_or_foreign_webhook_is_refused(fake_paypal):
    body = fake_paypal.event("PAYMENT.CAPTURE.COMPLETED", "capture", {"id": "3C1", "custom_id": str(uuid.uuid4())})
    headers = fake_paypal.signed(body)
    with pytest.raises(WebhookRejected, match="signature"):
        verifier(fake_paypal).verify(body.replace(b"3C1", b"3C2"), headers)
    # A certificate from anywhere but the PayPal host is never fetched, even if it would verify.
    other = FakePayPal(CLIENT, SECRET, WEBHOOK_ID).start()
    try:
        forged = other.signed(body)
        with pytest.raises(WebhookRejected, match="not on the PayPal host"):
            verifier(fake_paypal).verify(body, forged)
        # The same host, but signed with another key: the signature does not verify.
        with pytest.raises(WebhookRejected, match="signature"):
            verifier(fake_paypal).verify(body, {**forged, "PAYPAL-CERT-URL": headers["PAYPAL-CERT-URL"]})
    finally:
        other.stop()
    stale = fake_paypal.signed(body, at=time.time() - 3600)
    with pytest.raises(WebhookRejected, match="too old"):
        verifier(fake_paypal).verify(body, stale)
    with pytest.raises(WebhookRejected, match="signature"):  # signed for another webhook subscription
        verifier(fake_paypal, webhook_id="WH-OTHER").verify(body, headers)
    with pytest.raises(WebhookRejected, match="missing"):
        verifier(fake_paypal).verify(body, {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"})


# Paying through the PayPal fake ----------------------------------------------------------------

@pytest.fixture
def payments(fake_paypal, tmp_path, monkeypatch):
    monkeypatch.setenv("KONGFU_PAYPAL_API_BASE", fake_paypal.url)
    monkeypatch.setenv("KONGFU_PAYPAL_CLIENT_ID", CLIENT)
    monkeypatch.setenv("KONGFU_PAYPAL_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("KONGFU_PAYPAL_WEBHOOK_ID", WEBHOOK_ID)
    monkeypatch.setenv("KONGFU_PAYMENT_PROVIDER_TIMEOUT_SECONDS", "2")
    return ServiceHarness(bootstrap, tmp_path)


def pay_by_paypal(harness, order_id, customer="alice"):
    return harness.client.post(f"/payments/orders/{order_id}", json={"method": "paypal"},
                               headers={**harness.as_(customer, "customer"), "Idempotency-Key": uuid.uuid4().hex})


def post_webhook(harness, body, headers) -> httpx.Response:
    return harness.client.post("/payments/webhooks/paypal", content=body, headers=headers)


def test_pay_by_paypal_approve_capture_webhook_replay_and_refund(payments, fake_paypal):
    order_id = placed(payments)  # 248.00 CNY
    alice = payments.as_("alice", "customer")
    offered = payments.client.get(f"/payments/orders/{order_id}/options", headers=alice).json()
    paypal_option = next(o for o in offered["options"] if o["method"] == "paypal")
    assert (paypal_option["surcharge"], paypal_option["total"]) == ("10.78", "258.78")
    assert payments.client.get(f"/payments/orders/{order_id}/options",
                               headers=payments.as_("mallory", "customer")).status_code == 404
    assert payments.client.get("/rules/payment-methods").json()["version"] == SURCHARGE_VERSION

    started = pay_by_paypal(payments, order_id)
    assert started.status_code == 201, started.text
    payment = started.json()
    assert payment["status"] == "pending" and payment["approve_url"].startswith(fake_paypal.url)
    assert (payment["amount"], payment["surcharge"], payment["charged"]) == ("248.00", "10.78", "258.78")
    (order,) = fake_paypal.orders.values()
    assert order["purchase_units"][0]["amount"] == {"currency_code": "CNY", "value": "258.78"}

    capture = f"/payments/{payment['payment_id']}/capture"
    not_approved = payments.client.post(capture, headers=alice)
    assert not_approved.status_code == 422 and "ORDER_NOT_APPROVED" in not_approved.json()["detail"]
    assert payments.client.post(capture, headers=payments.as_("mallory", "customer")).status_code == 404
    assert httpx.get(payment["approve_url"]).status_code == 200  # the payer approves at PayPal
    captured = payments.client.post(capture, headers=alice)
    assert captured.status_code == 200 and captured.json()["status"] == "succeeded", captured.text
    assert payments.client.post(capture, headers=alice).json()["status"] == "succeeded"  # a retry: once
    assert payments.published_types().count("payments.PaymentSucceeded") == 1
    assert payments.published_types().count("payments.SurchargeCharged") == 1

    (body, headers), = fake_paypal.sent  # PAYMENT.CAPTURE.COMPLETED, signed
    assert post_webhook(payments, body, headers).json() == {"result": "duplicate"}
    assert post_webhook(payments, body, headers).json() == {"result": "duplicate"}  # replayed
    assert post_webhook(payments, body.replace(b"COMPLETED", b"DENIED"), headers).status_code == 401
    assert payments.published_types().count("payments.PaymentSucceeded") == 1

    payments.project()
    ledger = payments.client.get("/me/ledger", headers=alice).json()
    lines = {m["kind"]: m for m in ledger["movements"]}
    assert lines["paypal_charge"]["amount"] == "248.00" and lines["paypal_surcharge"]["amount"] == "10.78"
    assert lines["paypal_surcharge"]["rule_version"] == SURCHARGE_VERSION and ledger["balance"] == "0.00"

    # Cancelled in full: the refund returns what the customer paid, surcharge included ...
    refund = RefundIssued(order_id=order_id, refund_id=uuid.uuid4(), amount=Decimal("248.00"), currency="CNY",
                          reason="cancelled", line_no=None)
    assert payments.react(refund) == "handled" and payments.react(refund) == "handled"
    assert balance(payments) == Decimal("258.78")
    # ... and back to PayPal: a refund against the capture of everything that was charged.
    withdrawal = payments.client.post("/me/withdrawals", json={"amount": "258.78"},
                                      headers={**alice, "Idempotency-Key": "withdraw-0001"})
    assert withdrawal.status_code == 201, withdrawal.text
    (paypal_refund,) = fake_paypal.refunds.values()
    assert paypal_refund["amount"]["value"] == "258.78" and balance(payments) == Decimal("0.00")
    (refunded_body, refunded_headers) = fake_paypal.sent[-1]
    assert b"PAYMENT.CAPTURE.REFUNDED" in refunded_body
    assert post_webhook(payments, refunded_body, refunded_headers).json() == {"result": "ignored"}


def test_a_payer_declined_at_capture_leaves_the_order_unpaid(payments, fake_paypal):
    order_id = placed(payments)
    alice = payments.as_("alice", "customer")
    payment = pay_by_paypal(payments, order_id).json()
    assert httpx.get(payment["approve_url"] + "&payer=declined").status_code == 200
    declined = payments.client.post(f"/payments/{payment['payment_id']}/capture", headers=alice)
    assert declined.status_code == 402, declined.text
    assert payments.client.get(f"/payments/{payment['payment_id']}", headers=alice).json()["status"] == "failed"
    (body, headers), = fake_paypal.sent
    assert b"PAYMENT.CAPTURE.DENIED" in body and post_webhook(payments, body, headers).json() == {"result": "duplicate"}
    assert "payments.PaymentSucceeded" not in payments.published_types()
    assert "payments.SurchargeCharged" not in payments.published_types()


def test_a_parcel_s_shipping_bill_paid_by_paypal_once_with_its_surcharge_line(payments, fake_paypal):
    from tests.unit.test_shipping_bills import billed, pay_shipping

    parcel_id = billed(payments)  # 264.00 CNY: the line, the premium and a storage fee
    alice = payments.as_("alice", "customer")
    started = pay_shipping(payments, parcel_id, method="paypal", key="ship-paypal-1")
    assert started.status_code == 201, started.text
    payment = started.json()
    assert (payment["status"], payment["amount"], payment["surcharge"]) == ("pending", "264.00", "11.33")
    (order,) = fake_paypal.orders.values()
    assert order["purchase_units"][0]["amount"]["value"] == "275.33"  # the bill and the surcharge
    assert pay_shipping(payments, parcel_id, method="balance").status_code == 409  # one payment at a time
    assert httpx.get(payment["approve_url"]).status_code == 200
    captured = payments.client.post(f"/payments/{payment['payment_id']}/capture", headers=alice)
    assert captured.status_code == 200 and captured.json()["status"] == "succeeded", captured.text
    (succeeded,) = [e for e in payments.published() if e.type == "payments.PaymentSucceeded"]
    assert (succeeded.payload["purpose"], succeeded.payload["reference"], succeeded.payload["amount"]) == \
        ("shipping", str(parcel_id), "264.00")  # logistics checks the bill's total; the surcharge is apart
    assert succeeded.payload["card_fingerprint"] is None  # PayPal names no card
    assert payments.published_types().count("payments.SurchargeCharged") == 1
    assert payments.client.get(f"/payments/shipping/{parcel_id}", headers=alice).json()["paid"] is True
    again = pay_shipping(payments, parcel_id, method="paypal", key="ship-paypal-2")
    assert again.status_code == 409 and "already paid" in again.json()["detail"]


def test_a_payment_its_payer_never_approved_is_given_up_and_the_bill_paid_again(payments, fake_paypal):
    """A PayPal payment holds its bill (one payment at a time) until its payer approves it; one
    never approved is given up at its 3-hour deadline, the bill can then be paid again, and the
    old payment is never captured, even if its payer approves it after all."""
    from datetime import datetime, timezone

    from service_runtime.clock import ManualClock
    from service_runtime.timers import TimerScheduler
    from services.payments.deadlines import APPROVAL_DEADLINE
    from tests.unit.test_shipping_bills import billed, pay_shipping

    clock = payments.app.clock = ManualClock(datetime.now(timezone.utc))
    scheduler = TimerScheduler(payments.app, payments.parts.timers, clock, service="payments")
    alice = payments.as_("alice", "customer")
    parcel_id = billed(payments)
    waiting = pay_shipping(payments, parcel_id, method="paypal", key="ship-paypal-never").json()
    assert waiting["status"] == "pending" and waiting["approve_url"]
    held = pay_shipping(payments, parcel_id, method="paypal", key="ship-paypal-again")
    assert held.status_code == 409 and "is pending" in held.json()["detail"]

    clock.advance(seconds=APPROVAL_DEADLINE.total_seconds() - 60)
    assert scheduler.fire_due() == 0
    clock.advance(seconds=60)
    assert scheduler.fire_due() == 1
    assert payments.client.get(f"/payments/{waiting['payment_id']}", headers=alice).json()["status"] == "failed"
    again = pay_shipping(payments, parcel_id, method="paypal", key="ship-paypal-again")
    assert again.status_code == 201, again.text
    assert httpx.get(again.json()["approve_url"]).status_code == 200
    captured = payments.client.post(f"/payments/{again.json()['payment_id']}/capture", headers=alice)
    assert captured.status_code == 200 and captured.json()["status"] == "succeeded", captured.text

    assert httpx.get(waiting["approve_url"]).status_code == 200  # the first payer approves after all
    late = payments.client.post(f"/payments/{waiting['payment_id']}/capture", headers=alice)
    assert late.status_code == 409 and late.json()["title"] == "Payment abandoned", late.text
    assert len(fake_paypal.captures) == 1  # the bill was taken once at PayPal
    assert payments.client.get(f"/payments/shipping/{parcel_id}", headers=alice).json()["paid"] is True


def test_a_capture_paypal_has_not_settled_is_left_to_its_webhook_at_the_deadline(payments, fake_paypal):
    """An eCheck: the capture is taken but PENDING until the bank clears it, days later. The
    payment's deadline leaves it alone (only PayPal decides now), and the webhook that it cleared
    confirms it once, on time, with nothing credited to the balance."""
    from datetime import datetime, timezone

    from service_runtime.clock import ManualClock
    from service_runtime.timers import TimerScheduler
    from services.payments.deadlines import APPROVAL_DEADLINE

    clock = payments.app.clock = ManualClock(datetime.now(timezone.utc))
    scheduler = TimerScheduler(payments.app, payments.parts.timers, clock, service="payments")
    alice = payments.as_("alice", "customer")
    payment = pay_by_paypal(payments, placed(payments)).json()
    assert httpx.get(payment["approve_url"] + "&payer=echeck").status_code == 200
    captured = payments.client.post(f"/payments/{payment['payment_id']}/capture", headers=alice)
    assert captured.status_code == 200 and captured.json()["status"] == "pending", captured.text

    clock.advance(seconds=APPROVAL_DEADLINE.total_seconds())
    assert scheduler.fire_due() == 1
    assert payments.client.get(f"/payments/{payment['payment_id']}", headers=alice).json()["status"] == "pending"
    assert "payments.PaymentFailed" not in payments.published_types()

    (capture_id,) = fake_paypal.captures
    fake_paypal.clear(capture_id)
    body, headers = fake_paypal.sent[-1]
    assert b"PAYMENT.CAPTURE.COMPLETED" in body and post_webhook(payments, body, headers).json() == {"result": "applied"}
    assert payments.client.get(f"/payments/{payment['payment_id']}", headers=alice).json()["status"] == "succeeded"
    assert payments.published_types().count("payments.PaymentSucceeded") == 1
    assert balance(payments) == Decimal("0.00")  # confirmed on time: nothing went to the balance

"""Payments on its own store, paying through the Stripe fake (a real HTTP server speaking
Stripe's REST shapes, driven by the official SDK) and learning outcomes from its signed webhooks."""

import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from contracts.claims import CompensationDecided, CompensationDecidedV3, CounterfeitConfirmed
from contracts.orders import OrderPlaced, RefundIssued
from service_runtime.clock import ManualClock
from services.payments.bootstrap import bootstrap
from services.payments.deadlines import SUBMISSION_GRACE
from services.payments.providers.fake_stripe import DECLINED, PROVIDER_ERROR, TIMEOUT, FakeStripe, sign
from tests.apptest import ServiceHarness

SECRET = "whsec_test_unit"


@pytest.fixture
def fake_stripe():
    fake = FakeStripe(SECRET, hang_seconds=3).start()
    yield fake
    fake.stop()


@pytest.fixture
def payments(fake_stripe, tmp_path, monkeypatch):
    monkeypatch.setenv("KONGFU_STRIPE_API_BASE", fake_stripe.url)
    monkeypatch.setenv("KONGFU_STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("KONGFU_PAYMENT_PROVIDER_TIMEOUT_SECONDS", "1")
    return ServiceHarness(bootstrap, tmp_path)


def placed(harness, customer="alice", total="248.00") -> uuid.UUID:
    order_id = uuid.uuid4()
    harness.react(OrderPlaced.model_validate({
        "order_id": str(order_id), "customer_id": customer, "destination_country": "GB",
        "lines": [{"line_no": 1, "platform": "taobao", "item_id": "1", "product_url": "https://item.taobao.com/item.htm?id=1",
                   "sku": "m", "quantity": 1, "unit_price": total}],
        "quote": {"currency": "CNY", "lines": [{"code": "items", "label": "Items", "amount": total}],
                  "total": total, "rules_version": "t"}}))
    return order_id


def pay(harness, order_id, customer="alice", method="card", token="pm_card_visa", key=None):
    body = {"method": method, **({"payment_token": token} if token else {})}
    return harness.client.post(f"/payments/orders/{order_id}", json=body,
                               headers={**harness.as_(customer, "customer"), "Idempotency-Key": key or uuid.uuid4().hex})


def deliver_webhooks(harness, fake) -> list[dict]:
    answers = []
    for payload, header in fake.take_undelivered():
        response = harness.client.post("/payments/webhooks/stripe", content=payload,
                                       headers={"Stripe-Signature": header, "content-type": "application/json"})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def balance(harness, customer="alice") -> Decimal:
    response = harness.client.get("/me/balance", headers=harness.as_(customer, "customer"))
    assert response.status_code == 200, response.text
    return Decimal(response.json()["balance"])


def test_a_card_payment_is_pending_until_the_signed_webhook_confirms_it(payments, fake_stripe):
    order_id = placed(payments)
    response = pay(payments, order_id)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending" and "PaymentSucceeded" not in str(payments.published_types())
    assert fake_stripe.intents and list(fake_stripe.intents.values())[0]["amount"] == 24800
    assert deliver_webhooks(payments, fake_stripe) == [{"result": "applied"}]
    payment = payments.client.get(f"/payments/{response.json()['payment_id']}", headers=payments.as_("alice", "customer"))
    assert payment.json()["status"] == "succeeded"
    assert payments.published_types().count("payments.PaymentSucceeded") == 1


def test_a_replayed_webhook_changes_nothing_and_a_stale_or_forged_one_is_refused(payments, fake_stripe):
    order_id = placed(payments)
    pay(payments, order_id)
    deliver_webhooks(payments, fake_stripe)
    payload, header = fake_stripe.sent[-1]
    again = payments.client.post("/payments/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})
    assert again.json() == {"result": "duplicate"}
    stale = sign(SECRET, payload, int(time.time()) - 3600)
    forged = sign("whsec_someone_else", payload, int(time.time()))
    for signature in (stale, forged, None):
        headers = {"Stripe-Signature": signature} if signature else {}
        refused = payments.client.post("/payments/webhooks/stripe", content=payload, headers=headers)
        assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
    assert payments.published_types().count("payments.PaymentSucceeded") == 1


@pytest.mark.parametrize("token,status,words", [(DECLINED, 402, "declined"), (TIMEOUT, 504, "in time"),
                                                (PROVIDER_ERROR, 502, "Stripe failed")])
def test_provider_failures_leave_the_order_unpaid_with_a_clear_problem(payments, fake_stripe, token, status, words):
    order_id = placed(payments)
    response = pay(payments, order_id, token=token)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"]
    deliver_webhooks(payments, fake_stripe)  # the declined card's payment_failed webhook: no second effect
    types = payments.published_types()
    assert types.count("payments.PaymentFailed") == 1 and "payments.PaymentSucceeded" not in types


def test_the_same_idempotency_key_never_charges_twice(payments, fake_stripe):
    order_id = placed(payments)
    first, second = pay(payments, order_id, key="same-key-123"), pay(payments, order_id, key="same-key-123")
    assert first.json()["payment_id"] == second.json()["payment_id"]
    assert len(fake_stripe.intents) == 1
    other = pay(payments, order_id, key="same-key-123", method="balance", token=None)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]


class ProcessKilled(BaseException):
    """The process dying mid-request: nothing of it runs any more."""


def killed_when_asking_the_provider(harness, monkeypatch, request) -> None:
    """Run `request` in a process that dies as it asks the card provider to charge. Repeated at
    once, it is told to wait (the first request could still be asking); repeated later, it goes
    on (the clock moved past the grace)."""
    provider = harness.app.providers["card"]
    charge = provider.charge

    def killed(*args, **kwargs):
        raise ProcessKilled()

    monkeypatch.setattr(provider, "charge", killed)
    with pytest.raises(ProcessKilled):
        request()
    monkeypatch.setattr(provider, "charge", charge)
    at_once = request()
    assert at_once.status_code == 409 and "still being submitted" in at_once.json()["detail"], at_once.text
    harness.app.clock = ManualClock(datetime.now(timezone.utc) + SUBMISSION_GRACE + timedelta(seconds=1))


def test_a_payment_saved_but_never_submitted_is_submitted_when_the_request_is_retried(payments, fake_stripe,
                                                                                      monkeypatch):
    """The process died after saving the pending intent and before asking the provider; the
    client retries with the same Idempotency-Key. The retry submits it (the provider's own
    idempotency key is the payment's, so a charge that did reach it is not taken twice) instead
    of answering with an intent no provider will ever confirm."""
    order_id = placed(payments)
    killed_when_asking_the_provider(payments, monkeypatch, lambda: pay(payments, order_id, key="retried-key-1"))

    retried = pay(payments, order_id, key="retried-key-1")
    assert retried.status_code == 201, retried.text
    assert len(fake_stripe.intents) == 1
    deliver_webhooks(payments, fake_stripe)
    again = pay(payments, order_id, key="retried-key-1")
    assert again.json()["payment_id"] == retried.json()["payment_id"] and again.json()["status"] == "succeeded"
    assert len(fake_stripe.intents) == 1


def test_card_data_is_refused(payments):
    order_id = placed(payments)
    response = pay(payments, order_id, token="4111111111111111")
    assert response.status_code == 422 and "4111" not in response.text
    extra = payments.client.post(f"/payments/orders/{order_id}", json={"method": "card", "card_number": "4111111111111111"},
                                 headers={**payments.as_("alice", "customer"), "Idempotency-Key": "k" * 10})
    assert extra.status_code == 422 and "4111" not in extra.text


def test_another_customer_cannot_pay_or_read(payments, fake_stripe):
    order_id = placed(payments)
    assert pay(payments, order_id, customer="mallory").status_code == 404
    mine = pay(payments, order_id).json()
    assert payments.client.get(f"/payments/{mine['payment_id']}", headers=payments.as_("mallory", "customer")).status_code == 404


def test_top_up_pay_from_balance_refund_compensation_and_withdraw_to_the_card(payments, fake_stripe):
    top = payments.client.post("/me/top-ups", json={"amount": "500.00", "method": "card", "payment_token": "pm_card_visa"},
                               headers={**payments.as_("alice", "customer"), "Idempotency-Key": "top-up-0001"})
    assert top.status_code == 201 and balance(payments) == 0  # pending until the webhook
    deliver_webhooks(payments, fake_stripe)
    assert balance(payments) == Decimal("500.00")
    order_id = placed(payments, total="248.00")
    paid = pay(payments, order_id, method="balance", token=None)
    assert paid.status_code == 201 and paid.json()["status"] == "succeeded"
    assert balance(payments) == Decimal("252.00")
    short = pay(payments, placed(payments, total="300.00"), method="balance", token=None)
    assert short.status_code == 402 and "balance" in short.json()["detail"] and balance(payments) == Decimal("252.00")

    refund = RefundIssued(order_id=order_id, refund_id=uuid.uuid4(), amount=Decimal("100.00"), currency="CNY",
                          reason="refund after failed inspection", line_no=1)
    assert payments.react(refund) == "handled"
    assert payments.react(refund) == "handled"  # a redelivery under another event id: the movement id stops it
    assert balance(payments) == Decimal("352.00")
    decided = CompensationDecided(claim_id=uuid.uuid4(), parcel_id=uuid.uuid4(), customer_id="alice",
                                  order_ids=[order_id], kind="damaged", approved=True, amount=Decimal("30.00"),
                                  currency="CNY", rule="r", rule_version="comp-1", inputs={}, decided_by="s", notes="")
    payments.react(decided)
    payments.react(decided.model_copy(update={"claim_id": uuid.uuid4(), "approved": False}))
    raised = CompensationDecidedV3(**{**decided.model_dump(), "amount": Decimal("5.00"), "decision_no": 2})
    payments.react(raised)  # a dispute's changed decision adds its difference, once
    payments.react(raised)
    counterfeit = CounterfeitConfirmed(order_id=order_id, customer_id="alice", line_no=1, traceability_code=None,
                                       platform="taobao", merchant_id="m", merchant_name="M", source="inspection",
                                       evidence=[], confirmed_by="qc", refund_amount=Decimal("20.00"), currency="CNY")
    payments.react(counterfeit)
    payments.react(counterfeit)
    assert balance(payments) == Decimal("407.00")

    too_much = payments.client.post("/me/withdrawals", json={"amount": "9999.00"},
                                    headers={**payments.as_("alice", "customer"), "Idempotency-Key": "withdraw-01"})
    assert too_much.status_code == 402 and balance(payments) == Decimal("407.00")
    out = payments.client.post("/me/withdrawals", json={"amount": "400.00"},
                               headers={**payments.as_("alice", "customer"), "Idempotency-Key": "withdraw-02"})
    assert out.status_code == 201, out.text
    again = payments.client.post("/me/withdrawals", json={"amount": "400.00"},
                                 headers={**payments.as_("alice", "customer"), "Idempotency-Key": "withdraw-02"})
    assert again.json() == out.json() and Decimal(out.json()["amount"]) == Decimal("400.00")
    assert balance(payments) == Decimal("7.00")
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [40000]
    credited = [e.payload["kind"] for e in payments.published() if e.type == "payments.BalanceCredited"]
    assert credited == ["top_up", "refund", "compensation", "compensation", "counterfeit_refund"]


def test_a_confirmation_after_a_reported_failure_goes_to_the_balance_not_lost(payments, fake_stripe):
    """A timeout that did go through at the provider: the order stays unpaid (the customer was
    told it failed), and the money the provider confirms later is credited to the balance."""
    order_id = placed(payments)
    payment_id = pay(payments, order_id).json()["payment_id"]
    payments.app._change(uuid.UUID(payment_id), lambda intent: intent.fail("timeout: no answer in time"))
    deliver_webhooks(payments, fake_stripe)
    assert balance(payments) == Decimal("248.00")
    types = payments.published_types()
    assert "payments.PaymentSucceeded" not in types and types.count("payments.PaymentFailed") == 1
    (credit,) = [e.payload for e in payments.published() if e.type == "payments.BalanceCredited"]
    assert credit["kind"] == "late_confirmation" and credit["order_id"] == str(order_id)


def test_a_card_payment_names_its_card_by_stripe_s_fingerprint_the_same_across_customers(payments, fake_stripe):
    """PaymentSucceeded v3 carries `payment_method.card.fingerprint` (for the velocity rules): the
    same test card gives the same fingerprint whoever pays; another card another; no card data."""
    paid = {}
    for customer, token in (("alice", "pm_card_visa"), ("bob", "pm_card_visa"), ("carol", "pm_card_mastercard")):
        order_id = placed(payments, customer=customer)
        assert pay(payments, order_id, customer=customer, token=token).status_code == 201
        deliver_webhooks(payments, fake_stripe)
        (outcome,) = [e for e in payments.published() if e.type == "payments.PaymentSucceeded"
                      and e.payload["order_id"] == str(order_id)]
        assert outcome.schema_version == 3
        paid[customer] = outcome.payload["card_fingerprint"]
    assert paid["alice"] and paid["alice"] == paid["bob"] != paid["carol"]
    assert "4242" not in str(paid)  # a hash, not the card number


def test_a_card_payment_and_its_webhook_read_the_intent_once_each(payments, fake_stripe):
    """The submission is recorded on the intent the request just saved, and the webhook loads it
    once: a webhook that came in between would fail that save on its version, read it again."""
    order_id = placed(payments)
    reads = []
    recorder = payments.app.recorder
    select_events = recorder.select_events
    recorder.select_events = lambda originator_id, **kw: reads.append(originator_id) or select_events(originator_id,
                                                                                                     **kw)
    response = pay(payments, order_id)
    assert response.status_code == 201 and response.json()["status"] == "pending"
    payment_id = uuid.UUID(response.json()["payment_id"])
    assert reads.count(payment_id) == 1  # the Idempotency-Key's lookup, before the intent existed
    reads.clear()
    assert deliver_webhooks(payments, fake_stripe) == [{"result": "applied"}]
    assert reads.count(payment_id) == 1
    assert payments.published_types().count("payments.PaymentSucceeded") == 1

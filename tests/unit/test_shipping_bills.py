"""A parcel's shipping bill: composed and frozen by logistics (line price, insurance premium,
storage fees), learned once by payments and paid there once, by card or from the balance."""

import uuid
from decimal import Decimal

import pytest

from contracts import parse_payload
from contracts.logistics import ShippingBilled
from service_runtime.errors import Conflict
from services.logistics.projections import parcel_entries, parcel_view
from services.logistics.billing import compose_bill
from tests.unit.test_payments_app import balance, deliver_webhooks, fake_stripe, payments  # noqa: F401 - fixtures

FEES = [{"traceability_code": "KF-VASE-01", "days_stored": 100, "fee_days": 10, "amount": "10.00"},
        {"traceability_code": "KF-SHIRT-02", "days_stored": 20, "fee_days": 0, "amount": "0.00"}]


def test_the_bill_itemises_the_line_the_premium_and_each_items_storage_fees():
    lines, total = compose_bill("Economy air", Decimal("248.00"), Decimal("6.00"), FEES)
    assert [(l["code"], l["amount"], l["traceability_code"]) for l in lines] == [
        ("shipping", Decimal("248.00"), None), ("insurance_premium", Decimal("6.00"), None),
        ("storage_fee", Decimal("10.00"), "KF-VASE-01")]  # a fee of zero is no line
    assert total == Decimal("264.00") == sum(l["amount"] for l in lines)
    assert "10 days" in lines[2]["label"]
    uninsured, total = compose_bill("Economy air", Decimal("248.00"), None, [])
    assert [l["code"] for l in uninsured] == ["shipping"] and total == Decimal("248.00")


def billed(harness, customer="alice", parcel_id=None) -> uuid.UUID:
    parcel_id = parcel_id or uuid.uuid4()
    harness.react(ShippingBilled.model_validate({
        "parcel_id": str(parcel_id), "customer_id": customer, "order_ids": [str(uuid.uuid4())],
        "line_code": "economy-air", "chargeable_weight_kg": "4.0", "total": "264.00", "currency": "CNY",
        "lines_version": "lines-2026.11", "lines": [
            {"code": "shipping", "label": "International shipping: Economy air", "amount": "248.00"},
            {"code": "insurance_premium", "label": "Shipping insurance premium", "amount": "6.00"},
            {"code": "storage_fee", "label": "Storage fees", "amount": "10.00", "traceability_code": "KF-VASE-01"}]}))
    return parcel_id


def pay_shipping(harness, parcel_id, method="balance", key=None, customer="alice"):
    body = {"method": method, **({"payment_token": "pm_card_visa"} if method == "card" else {})}
    return harness.client.post(f"/payments/shipping/{parcel_id}", json=body,
                               headers={**harness.as_(customer, "customer"), "Idempotency-Key": key or uuid.uuid4().hex})


def top_up(harness, fake, amount="500.00", customer="alice"):
    answer = harness.client.post("/me/top-ups", json={"amount": amount, "method": "card", "payment_token": "pm_card_visa"},
                                 headers={**harness.as_(customer, "customer"), "Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    deliver_webhooks(harness, fake)


def test_a_bill_is_learned_once_and_a_redelivered_one_changes_nothing(payments):
    parcel_id = billed(payments)
    assert billed(payments, parcel_id=parcel_id) == parcel_id  # redelivered under another event id
    bill = payments.client.get(f"/payments/shipping/{parcel_id}", headers=payments.as_("alice", "customer")).json()
    assert (bill["total"], bill["paid"]) == ("264.00", False)
    assert [l["code"] for l in bill["lines"]] == ["shipping", "insurance_premium", "storage_fee"]
    assert payments.client.get(f"/payments/shipping/{parcel_id}",
                               headers=payments.as_("bob", "customer")).status_code == 404  # not bob's


def test_shipping_paid_from_the_balance_once_with_every_line_in_the_ledger(payments, fake_stripe):
    top_up(payments, fake_stripe)
    parcel_id = billed(payments)
    first = pay_shipping(payments, parcel_id, key="ship-pay-0001")
    assert first.status_code == 201 and first.json()["status"] == "succeeded"
    assert pay_shipping(payments, parcel_id, key="ship-pay-0001").json() == first.json()  # a retry
    again = pay_shipping(payments, parcel_id, key="ship-pay-0002")  # the double charge of the money issue
    assert again.status_code == 409 and "already paid" in again.json()["detail"]
    by_card = pay_shipping(payments, parcel_id, method="card", key="ship-pay-0003")
    assert by_card.status_code == 409 and fake_stripe.take_undelivered() == []  # the provider never heard of it
    assert balance(payments) == Decimal("236.00")  # 500 - 264, once

    [succeeded] = [e for e in payments.published() if e.type == "payments.PaymentSucceeded"
                   and e.payload["purpose"] == "shipping"]
    assert succeeded.schema_version == 3 and succeeded.payload["reference"] == str(parcel_id)  # v3: with the card fingerprint
    [debit] = [e for e in payments.published() if e.type == "payments.BalanceDebited"]
    assert debit.payload["kind"] == "shipping_payment" and len(debit.payload["lines"]) == 3
    payments.project()
    ledger = payments.client.get("/me/ledger", headers=payments.as_("alice", "customer")).json()
    paid = next(m for m in ledger["movements"] if m["kind"] == "shipping_payment")
    assert [(l["code"], l["amount"]) for l in paid["lines"]] == [
        ("shipping", "248.00"), ("insurance_premium", "6.00"), ("storage_fee", "10.00")]
    assert Decimal(ledger["balance"]) == Decimal("236.00")


def test_shipping_by_card_is_pending_until_the_webhook_and_never_paid_twice(payments, fake_stripe):
    parcel_id = billed(payments)
    pending = pay_shipping(payments, parcel_id, method="card", key="ship-card-0001")
    assert pending.status_code == 201 and pending.json()["status"] == "pending"
    meanwhile = pay_shipping(payments, parcel_id, method="card", key="ship-card-0002")
    assert meanwhile.status_code == 409 and "pending" in meanwhile.json()["detail"]
    assert deliver_webhooks(payments, fake_stripe) == [{"result": "applied"}]
    confirmed = payments.client.get(f"/payments/{pending.json()['payment_id']}", headers=payments.as_("alice", "customer"))
    assert confirmed.json()["status"] == "succeeded" and confirmed.json()["purpose"] == "shipping"
    assert pay_shipping(payments, parcel_id, method="card", key="ship-card-0003").status_code == 409
    [succeeded] = [e for e in payments.published() if e.type == "payments.PaymentSucceeded"]
    assert succeeded.payload["amount"] == "264.00" and succeeded.payload["order_id"] is None
    payments.project()
    ledger = payments.client.get("/me/ledger", headers=payments.as_("alice", "customer")).json()
    [charge] = ledger["movements"]
    assert charge["kind"] == "card_charge" and "shipping" in charge["reason"] and len(charge["lines"]) == 3


def test_a_short_balance_is_a_402_and_a_declined_card_may_be_retried(payments, fake_stripe):
    parcel_id = billed(payments)
    short = pay_shipping(payments, parcel_id)
    assert short.status_code == 402
    declined = payments.client.post(f"/payments/shipping/{parcel_id}",
                                    json={"method": "card", "payment_token": "pm_card_chargeDeclined"},
                                    headers={**payments.as_("alice", "customer"), "Idempotency-Key": "declined-01"})
    assert declined.status_code == 402
    deliver_webhooks(payments, fake_stripe)
    retried = pay_shipping(payments, parcel_id, method="card", key="retry-card-01")
    assert retried.status_code == 201 and retried.json()["status"] == "pending"


def test_logistics_bills_the_line_the_premium_and_the_storage_fees_frozen_at_packing(tmp_path):
    from contracts.warehouse import ParcelPackedV2
    from services.logistics.bootstrap import bootstrap
    from tests.apptest import ServiceHarness
    from tests.unit.test_logistics_app import choose, hand_over, insure, packed, paid

    logistics = ServiceHarness(bootstrap, tmp_path)
    alice = logistics.as_("alice", "customer")
    parcel_id = uuid.uuid4()
    fees = [{**fee, "rules_version": "storage-2026-11"} for fee in FEES]
    assert logistics.react(ParcelPackedV2(**dict(packed(parcel_id)), storage_fees=fees)) == "handled"
    assert insure(logistics, parcel_id).json()["premium"] == "6.00"
    quote = logistics.client.get(f"/logistics/parcels/{parcel_id}/quotes", headers=alice).json()
    assert [(c["code"], c["amount"]) for c in quote["additional_charges"]] == [
        ("insurance_premium", "6.00"), ("storage_fee", "10.00")]  # shown before the line is chosen

    bill = choose(logistics, parcel_id).json()
    assert [(l["code"], l["amount"]) for l in bill["lines"]] == [
        ("shipping", "248.00"), ("insurance_premium", "6.00"), ("storage_fee", "10.00")]
    assert bill["total"] == "264.00" and bill["paid"] is False
    late = insure(logistics, parcel_id, insured=False)
    assert late.status_code == 409
    assert logistics.client.post(f"/logistics/parcels/{parcel_id}/insurance", json={"insured": True},
                                 headers=alice).status_code == 201  # the same choice again: the same answer
    with pytest.raises(Conflict):  # only the whole bill settles it
        paid(logistics, parcel_id, "248.00")
    assert hand_over(logistics, parcel_id).status_code == 409
    assert paid(logistics, parcel_id, "264.00") == "handled"

    [billed_event] = [e for e in logistics.published() if e.type == "logistics.ShippingBilled"]
    assert [l["code"] for l in billed_event.payload["lines"]] == ["shipping", "insurance_premium", "storage_fee"]
    entries = [entry.data for envelope in logistics.published() for entry in parcel_entries(
        envelope, parse_payload(envelope.type, envelope.schema_version, envelope.payload))]
    mine = parcel_view(str(parcel_id), entries)  # GET /me/parcels shows every line of the bill
    assert [(l["code"], l["amount"]) for l in mine["bill"]["lines"]] == [
        ("shipping", "248.00"), ("insurance_premium", "6.00"), ("storage_fee", "10.00")]
    view = logistics.client.get(f"/logistics/parcels/{parcel_id}", headers=alice).json()
    assert view["status"] == "shipping_paid" and view["shipping"]["amount"] == "248.00"  # the freight claims pays back


def test_a_shipping_payment_saved_but_never_submitted_is_submitted_when_the_request_is_retried(
        payments, fake_stripe, monkeypatch):
    """The chaos schedule's SIGKILL landed between saving the pending card payment of a shipping
    bill and asking Stripe; the driver's retry with the same Idempotency-Key was answered with
    that pending payment, which no provider would ever confirm, and logistics never learned the
    shipping was paid. The retry now asks the provider, once."""
    from tests.unit.test_payments_app import killed_when_asking_the_provider

    parcel_id = billed(payments)
    killed_when_asking_the_provider(
        payments, monkeypatch, lambda: pay_shipping(payments, parcel_id, method="card", key="ship-pay-kill"))

    retried = pay_shipping(payments, parcel_id, method="card", key="ship-pay-kill")
    assert retried.status_code == 201, retried.text
    assert len(fake_stripe.intents) == 1
    deliver_webhooks(payments, fake_stripe)
    assert pay_shipping(payments, parcel_id, method="card", key="ship-pay-kill").json()["status"] == "succeeded"
    assert len(fake_stripe.intents) == 1
    assert [e.payload["reference"] for e in payments.published()
            if e.type == "payments.PaymentSucceeded" and e.payload["purpose"] == "shipping"] == [str(parcel_id)]

"""One place to pay, on Kafka + PostgreSQL and on the embedded default: a parcel's shipping bill
(the line's price, the insurance premium and the storage fees due, each its own line) paid once at
payments from the balance and once by card; a redelivered bill changes nothing; the ledger and
`GET /me/parcels` show every line."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from contracts.logistics import ShippingBilled
from kongfu.local import wait_until
from tests.e2e.test_protection import Platform, journey, platform  # noqa: F401 - the fixture, with its clock
from tests.support import auth, publish_as

TEAPOT = {"product_url": "https://item.taobao.com/item.htm?id=6543217890", "sku": "celadon teapot", "quantity": 1,
          "unit_price": "300.00"}


def stored_item(trip) -> tuple[dict, str]:
    order = trip.place_and_pay([TEAPOT])
    estimate = next(l for l in order["quote"]["lines"] if l["code"] == "international_shipping_estimate")
    assert Decimal(estimate["amount"]) == 0  # shipping is paid once, with the parcel, never with the goods
    [task] = trip.tasks(order["order_id"], 1)
    code = trip.receive(order["order_id"], trip.purchase_and_ship(task, "general", "300.00"), 1)
    trip.inspect_and_store(code, 1, high_risk=False)
    return order, code


def money(platform: Platform, customer: str) -> tuple[Decimal, dict]:
    headers = auth(customer, "customer")
    ledger = httpx.get(f"{platform.urls['payments']}/me/ledger", headers=headers).json()
    balance = Decimal(httpx.get(f"{platform.urls['payments']}/me/balance", headers=headers).json()["balance"])
    assert Decimal(ledger["balance"]) == sum((Decimal(m["balance_change"]) for m in ledger["movements"]), Decimal(0))
    return balance, ledger


def ledger_with(platform: Platform, customer: str, kinds: list[str]) -> tuple[Decimal, dict]:
    """Once the ledger holds these movements (the 100 days the clock moved may add others, such as
    a guarantee's credit, which are not this test's business)."""
    seen = []

    def probe():
        found = money(platform, customer)
        seen[:] = [(m["kind"], m["reason"]) for m in found[1]["movements"]]
        present = [m["kind"] for m in found[1]["movements"]]
        return all(present.count(kind) >= kinds.count(kind) for kind in kinds) and found

    try:
        return wait_until(probe, timeout=60, what=f"the ledger to show {kinds}")
    except AssertionError as error:
        raise AssertionError(f"{error}; the ledger shows {seen}") from None


def hand_over(trip, parcel_id: str, code: str) -> None:
    trip.call("logistics", "POST", f"/logistics/parcels/{parcel_id}/customs-declaration", "logistics_staff",
              json={"items": [{"traceability_code": code, "hs_code": "691390", "description": "ceramic teapot",
                               "declared_value": "300.00", "currency": "CNY"}]})
    trip.call("logistics", "POST", f"/logistics/parcels/{parcel_id}/handover", "logistics_staff",
              json={"carrier": "fake-express", "tracking_number": f"KF{uuid.uuid4().int % 10**10:010d}GB"})


def test_shipping_premium_and_storage_fees_paid_once_from_the_balance(platform):
    trip = journey(platform)
    order, code = stored_item(trip)
    platform.advance_days(100)  # ten days past the 90 free days: 10.00 CNY of storage fees
    parcel_id = trip.consolidate_and_pack([code])
    top_up = trip.as_customer("payments", "POST", "/me/top-ups", headers={"Idempotency-Key": f"top-up-{parcel_id}"},
                              json={"amount": "1000.00", "method": "card", "payment_token": "pm_card_visa"})
    assert top_up.json()["status"] == "pending"  # until Stripe's signed webhook
    before, _ = ledger_with(platform, trip.customer, ["card_charge", "card_charge", "top_up"])

    cover = trip.as_customer("logistics", "POST", f"/logistics/parcels/{parcel_id}/insurance",
                             json={"insured": True}).json()
    assert cover["premium"] == "9.00"  # 3% of 300.00
    line = next(l for l in trip.quotes(parcel_id) if l["code"] == "economy-air")
    quote = trip.as_customer("logistics", "GET", f"/logistics/parcels/{parcel_id}/quotes").json()
    assert {(c["code"], c["amount"]) for c in quote["additional_charges"]} == {
        ("insurance_premium", "9.00"), ("storage_fee", "10.00")}  # shown before choosing: no hidden fees

    bill = trip.choose_and_pay_shipping(parcel_id, line, method="balance")
    assert [(l["code"], l["amount"]) for l in bill["lines"]] == [
        ("shipping", line["price"]), ("insurance_premium", "9.00"), ("storage_fee", "10.00")]
    total = Decimal(line["price"]) + Decimal("19.00")
    assert Decimal(bill["total"]) == total and bill["lines"][2]["traceability_code"] == code

    # The double charge of the money issue: a second payment of the same parcel is refused.
    twice = trip.as_customer("payments", "POST", f"/payments/shipping/{parcel_id}", expect=409,
                             headers={"Idempotency-Key": f"again-{parcel_id}"}, json={"method": "balance"})
    assert "already paid" in twice.json()["detail"]
    _, ledger = ledger_with(platform, trip.customer, ["card_charge", "card_charge", "top_up", "shipping_payment"])
    [paid] = [m for m in ledger["movements"] if m["kind"] == "shipping_payment"]  # once
    assert Decimal(paid["balance_change"]) == -total
    assert [(l["code"], l["amount"]) for l in paid["lines"]] == [(l["code"], l["amount"]) for l in bill["lines"]]

    # A redelivered (or forged-looking) bill event for the parcel changes nothing.
    publish_as({"env": platform.env, "mode": platform.env.get("KONGFU_MODE", "stack")}, "logistics", ShippingBilled(
        parcel_id=parcel_id, customer_id=trip.customer, order_ids=[order["order_id"]], line_code="economy-air",
        chargeable_weight_kg=Decimal("4.0"), lines=[{"code": "shipping", "label": "x", "amount": "1.00"}],
        total=Decimal("1.00"), currency="CNY", lines_version="lines-2026.11"), order_id=parcel_id)
    mine = wait_until(lambda: next((p for p in trip.as_customer("logistics", "GET", "/me/parcels").json()["items"]
                                    if p["parcel_id"] == parcel_id and p["bill"]), None),
                      what="my parcel's bill in GET /me/parcels")
    assert [l["code"] for l in mine["bill"]["lines"]] == ["shipping", "insurance_premium", "storage_fee"]
    stored_bill = trip.as_customer("payments", "GET", f"/payments/shipping/{parcel_id}").json()
    assert Decimal(stored_bill["total"]) == total and stored_bill["paid"]
    hand_over(trip, parcel_id, code)  # paid: the parcel may go
    _, ledger = money(platform, trip.customer)
    assert [m["kind"] for m in ledger["movements"]].count("shipping_payment") == 1  # still charged once
    assert before >= Decimal("1000.00")


def test_shipping_paid_by_card_through_the_stripe_fake(platform):
    trip = journey(platform)
    _, code = stored_item(trip)
    parcel_id = trip.consolidate_and_pack([code])
    line = next(l for l in trip.quotes(parcel_id) if l["code"] == "economy-air")
    bill = trip.choose_and_pay_shipping(parcel_id, line, method="card")  # pending until the webhook
    assert [l["code"] for l in bill["lines"]] == ["shipping"] and bill["total"] == line["price"]
    _, ledger = ledger_with(platform, trip.customer, ["card_charge", "card_charge"])
    [charge] = [m for m in ledger["movements"] if "shipping" in m["reason"]]  # once
    assert charge["amount"] == line["price"] and charge["balance_change"] == "0.00" and charge["kind"] == "card_charge"
    assert trip.as_customer("payments", "POST", f"/payments/shipping/{parcel_id}", expect=409,
                            headers={"Idempotency-Key": f"again-{parcel_id}"},
                            json={"method": "card", "payment_token": "pm_card_visa"}).status_code == 409
    hand_over(trip, parcel_id, code)

"""The logistics service in process: from a packed parcel to the customer's receipt confirmation."""

import time
import uuid
from decimal import Decimal

import pytest

from contracts.common import ParcelItemV1
from contracts.payments import PaymentSucceededV2
from contracts.warehouse import ParcelPacked
from services.logistics.bootstrap import bootstrap
from services.logistics.carriers import FakeCarrier
from services.logistics.domain import TrackingIndex
from tests.apptest import ServiceHarness
from tests.support import CARRIER_SECRET

ORDER_ID = uuid.UUID("3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b")
TRACKING = "KF0123456789GB"
DECLARATION = [{"traceability_code": code, "hs_code": "691390", "description": "ceramic goods",
                "declared_value": "25.00", "currency": "USD"} for code in ("KF-VASE-01", "KF-SHIRT-02")]


def packed(parcel_id: uuid.UUID, *categories: str) -> ParcelPacked:
    categories = categories or ("fragile", "general")
    items = [ParcelItemV1(traceability_code=code, order_id=ORDER_ID, line_no=n, sku=sku, quantity=1,
                          category=category, value=Decimal("100.00"))
             for n, (code, sku, category) in enumerate(zip(("KF-VASE-01", "KF-SHIRT-02"),
                                                           ("celadon vase", "cotton shirt"), categories), start=1)]
    return ParcelPacked(parcel_id=parcel_id, customer_id="alice", order_ids=[ORDER_ID], destination_country="GB",
                        items=items, weight_kg=Decimal("2.4"), length_cm=Decimal("40"), width_cm=Decimal("30"),
                        height_cm=Decimal("20"), materials=["double-wall carton"], cushioning="foam",
                        reinforced=True, staff_id="warehouse-staff-1")


@pytest.fixture
def logistics(tmp_path):
    return ServiceHarness(bootstrap, tmp_path)


@pytest.fixture
def parcel(logistics):
    parcel_id = uuid.uuid4()
    assert logistics.react(packed(parcel_id)) == "handled"
    return str(parcel_id)


def staff(harness):
    return harness.as_("logistics-1", "logistics_staff")


def alice(harness):
    return harness.as_("alice", "customer")


def choose(harness, parcel_id, key="ship-key-0001", **changes):
    """Choose the first line that carries the parcel: logistics issues the bill."""
    line = next(l for l in harness.client.get(f"/logistics/parcels/{parcel_id}/quotes", headers=alice(harness))
                .json()["lines"] if not l["refused"])
    body = {"line_code": line["code"], "amount": line["price"], **changes}
    return harness.client.post(f"/logistics/parcels/{parcel_id}/shipping", json=body,
                               headers={**alice(harness), "Idempotency-Key": key})


def paid(harness, parcel_id, total, method="card", payment_id=None):
    """Payments confirmed the parcel's bill (as it publishes it)."""
    return harness.react(PaymentSucceededV2(
        payment_id=payment_id or uuid.uuid4(), order_id=None, customer_id="alice", purpose="shipping",
        amount=Decimal(total), currency="CNY", method=method, provider="stripe" if method == "card" else "balance",
        reference=str(parcel_id)))


def pay(harness, parcel_id, key="ship-key-0001", **changes):
    """Choose a line, then payments confirms its bill."""
    billed = choose(harness, parcel_id, key, **changes)
    if billed.status_code == 201 and not billed.json()["paid"]:
        paid(harness, parcel_id, billed.json()["total"])
    return billed


def declare(harness, parcel_id, items=DECLARATION):
    return harness.client.post(f"/logistics/parcels/{parcel_id}/customs-declaration", json={"items": items},
                               headers=staff(harness))


def hand_over(harness, parcel_id, tracking=TRACKING):
    return harness.client.post(f"/logistics/parcels/{parcel_id}/handover", headers=staff(harness),
                               json={"carrier": "fake-express", "tracking_number": tracking})


def carrier_says(harness, status, event_id, tracking=TRACKING, carrier=None):
    headers, body = (carrier or FakeCarrier(CARRIER_SECRET)).webhook(tracking, status, event_id)
    return harness.client.post("/logistics/carrier-webhooks/fake-express", content=body, headers=headers)


def test_the_whole_shipment_from_packed_to_receipt(logistics, parcel):
    view = logistics.client.get(f"/logistics/parcels/{parcel}", headers=alice(logistics)).json()
    assert view["status"] == "packed" and len(view["items"]) == 2

    quotes = logistics.client.get(f"/logistics/parcels/{parcel}/quotes", headers=alice(logistics)).json()
    economy = next(l for l in quotes["lines"] if l["code"] == "economy-air")
    assert economy["chargeable_weight_kg"] == "4.0" and economy["price"] == "248.00"  # by volume, not 2.4 kg

    first = choose(logistics, parcel)
    assert first.status_code == 201 and first.json()["line_code"] == "economy-air"
    assert (first.json()["total"], first.json()["paid"]) == ("248.00", False)
    assert first.json()["pay_at"] == f"/payments/shipping/{parcel}"
    assert hand_over(logistics, parcel).status_code == 409  # billed is not paid
    again = choose(logistics, parcel)
    assert again.status_code == 201 and again.json() == first.json()
    reused = choose(logistics, parcel, line_code="express-air")
    assert reused.status_code == 422 and "Idempotency-Key" in reused.json()["detail"]
    assert paid(logistics, parcel, "248.00") == "handled"
    assert paid(logistics, parcel, "248.00") == "handled"  # a second confirmation changes nothing
    view = logistics.client.get(f"/logistics/parcels/{parcel}", headers=alice(logistics)).json()
    assert view["status"] == "shipping_paid" and view["bill"]["paid"] is True

    assert declare(logistics, parcel).status_code == 200
    shipped = hand_over(logistics, parcel)
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"

    for number, status in enumerate(("in_transit", "customs_cleared", "out_for_delivery"), start=1):
        answer = carrier_says(logistics, status, f"evt-{number}")
        assert answer.status_code == 200 and answer.json()["status"] == status
    duplicate = carrier_says(logistics, "in_transit", "evt-1")
    assert duplicate.status_code == 200 and duplicate.json() == {"duplicate": True}
    early = logistics.client.post(f"/logistics/parcels/{parcel}/receipt-confirmation", headers=alice(logistics))
    assert early.status_code == 409
    assert carrier_says(logistics, "delivered", "evt-4").json()["duplicate"] is False

    confirmed = logistics.client.post(f"/logistics/parcels/{parcel}/receipt-confirmation", headers=alice(logistics))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "receipt_confirmed"
    assert logistics.client.post(f"/logistics/parcels/{parcel}/receipt-confirmation",
                                 headers=alice(logistics)).status_code == 200

    assert logistics.published_types() == [
        "logistics.ShippingBilled", "logistics.ShippingLineChosen", "logistics.CustomsDeclared", "logistics.ParcelShipped",
        "logistics.TrackingUpdated", "logistics.TrackingUpdated", "logistics.TrackingUpdated",
        "logistics.TrackingUpdated", "logistics.ReceiptConfirmed"]
    envelopes = logistics.published()
    tracking = [e for e in envelopes if e.type == "logistics.TrackingUpdated"]
    assert [e.payload["status"] for e in tracking] == ["in_transit", "customs_cleared", "out_for_delivery", "delivered"]
    assert tracking[0].actor == "carrier:fake-express"
    assert tracking[0].payload["traceability_codes"] == ["KF-VASE-01", "KF-SHIRT-02"]
    bill, chosen = envelopes[0].payload, envelopes[1].payload
    assert bill["total"] == "248.00" and [line["code"] for line in bill["lines"]] == ["shipping"]
    assert chosen["amount"] == "248.00" and chosen["chargeable_weight_kg"] == "4.0"
    assert chosen["order_ids"] == [str(ORDER_ID)] and chosen["customer_id"] == "alice"
    assert envelopes[2].payload["items"][0]["hs_code"] == "691390" and envelopes[2].payload["staff_id"] == "logistics-1"
    assert envelopes[3].payload["line_code"] == "economy-air" and envelopes[3].payload["tracking_number"] == TRACKING


def test_a_redelivered_parcel_packed_changes_nothing(logistics):
    parcel_id = uuid.uuid4()
    assert logistics.react(packed(parcel_id)) == "handled"
    assert logistics.react(packed(parcel_id)) == "handled"  # another event id, the same fact
    view = logistics.client.get(f"/logistics/parcels/{parcel_id}", headers=staff(logistics)).json()
    assert view["version"] == 1


def test_a_refused_line_is_a_422_with_the_reason(logistics):
    parcel_id = uuid.uuid4()
    logistics.react(packed(parcel_id, "electronics", "general"))
    quotes = logistics.client.get(f"/logistics/parcels/{parcel_id}/quotes", headers=alice(logistics)).json()["lines"]
    economy = next(l for l in quotes if l["code"] == "economy-air")
    assert economy["refused"] and economy["price"] is None and "electronics" in economy["reason"]
    answer = logistics.client.post(f"/logistics/parcels/{parcel_id}/shipping",
                                   headers={**alice(logistics), "Idempotency-Key": "ship-key-0002"},
                                   json={"line_code": "economy-air", "amount": "248.00"})
    assert answer.status_code == 422 and "electronics" in answer.json()["detail"]
    assert "KF-VASE-01" in answer.json()["detail"]


def test_the_amount_must_be_the_lines_price(logistics, parcel):
    wrong = pay(logistics, parcel, amount="1.00")
    assert wrong.status_code == 422 and "248.00" in wrong.json()["detail"]
    unknown = pay(logistics, parcel, key="ship-key-0003", line_code="teleport")
    assert unknown.status_code == 422 and "economy-air" in unknown.json()["detail"]
    assert pay(logistics, parcel, key="ship-key-0004").status_code == 201
    again = pay(logistics, parcel, key="ship-key-0005")
    assert again.status_code == 409 and "/payments/shipping/" in again.json()["detail"]  # billed once


def test_customs_declaration_lists_every_item_once(logistics, parcel):
    missing = declare(logistics, parcel, DECLARATION[:1])
    assert missing.status_code == 422 and "not declared: KF-SHIRT-02" in missing.json()["detail"]
    twice = declare(logistics, parcel, DECLARATION + DECLARATION[:1])
    assert twice.status_code == 422 and "more than once" in twice.json()["detail"]
    assert "KF-VASE-01" not in twice.json()["detail"]  # what the caller sent never comes back
    stranger = declare(logistics, parcel, DECLARATION + [{**DECLARATION[0], "traceability_code": "KF-OTHER"}])
    assert stranger.status_code == 422 and "not in this parcel" in stranger.json()["detail"]
    assert "KF-OTHER" not in stranger.json()["detail"]
    for bad in ({"hs_code": "69139"}, {"hs_code": "69139012345"}, {"declared_value": "0"}, {"currency": "usd"}):
        assert declare(logistics, parcel, [{**DECLARATION[0], **bad}, DECLARATION[1]]).status_code == 422
    assert declare(logistics, parcel).status_code == 200
    assert declare(logistics, parcel).status_code == 200  # the same declaration again adds nothing
    assert logistics.published_types() == ["logistics.CustomsDeclared"]


def test_handover_needs_paid_shipping_and_a_declaration(logistics, parcel):
    unpaid = hand_over(logistics, parcel)
    assert unpaid.status_code == 409 and "paid" in unpaid.json()["detail"]
    pay(logistics, parcel)
    undeclared = hand_over(logistics, parcel)
    assert undeclared.status_code == 409 and "customs" in undeclared.json()["detail"]
    declare(logistics, parcel)
    assert hand_over(logistics, parcel).status_code == 200
    assert hand_over(logistics, parcel).status_code == 200  # a retry
    assert hand_over(logistics, parcel, "KF9999999999GB").status_code == 409
    assert declare(logistics, parcel).status_code == 409  # too late to change the declaration


def test_a_tracking_number_belongs_to_one_parcel(logistics, parcel):
    other = str(uuid.uuid4())
    logistics.react(packed(uuid.UUID(other)))
    for parcel_id in (parcel, other):
        pay(logistics, parcel_id)
        declare(logistics, parcel_id)
    assert hand_over(logistics, parcel).status_code == 200
    assert hand_over(logistics, other).status_code == 409


def test_carrier_webhooks_must_be_signed_fresh_and_known(logistics, parcel):
    pay(logistics, parcel)
    declare(logistics, parcel)
    hand_over(logistics, parcel)
    forged = carrier_says(logistics, "delivered", "evt-x", carrier=FakeCarrier("not-the-shared-secret"))
    assert forged.status_code == 401 and forged.headers["content-type"].startswith("application/problem+json")
    stale = carrier_says(logistics, "delivered", "evt-y", carrier=FakeCarrier(CARRIER_SECRET, clock=lambda: 1.0e9))
    assert stale.status_code == 401 and "old" in stale.json()["detail"]
    headers, body = FakeCarrier(CARRIER_SECRET).webhook(TRACKING, "in_transit", "evt-z")
    tampered = logistics.client.post("/logistics/carrier-webhooks/fake-express", headers=headers,
                                     content=body.replace(b"in_transit", b"delivered"))
    assert tampered.status_code == 401
    unsigned = logistics.client.post("/logistics/carrier-webhooks/fake-express", content=body,
                                     headers={"content-type": "application/json"})
    assert unsigned.status_code == 401
    assert carrier_says(logistics, "in_transit", "evt-1", tracking="KF0000000000XX").status_code == 404
    headers, body = FakeCarrier(CARRIER_SECRET).webhook(TRACKING, "teleported", "evt-2")
    invalid = logistics.client.post("/logistics/carrier-webhooks/fake-express", headers=headers, content=body)
    assert invalid.status_code == 422 and "status" in invalid.json()["detail"]
    assert logistics.published_types().count("logistics.TrackingUpdated") == 0


def test_a_carrier_update_before_handover_is_a_conflict(logistics, parcel):
    # The index is only written at handover; one left behind for an unshipped parcel must not let
    # a carrier move it.
    logistics.app.save(TrackingIndex(carrier="fake-express", tracking_number=TRACKING, parcel_id=uuid.UUID(parcel)))
    answer = carrier_says(logistics, "in_transit", "evt-1")
    assert answer.status_code == 409 and "handed" in answer.json()["detail"]


def test_who_may_see_and_do_what(logistics, parcel):
    get = lambda path, who: logistics.client.get(f"/logistics/parcels/{parcel}{path}", headers=who)
    for reader in (alice(logistics), staff(logistics), logistics.as_("sa-1", "support_agent"),
                   logistics.as_("au-1", "auditor")):
        assert get("", reader).status_code == 200
    assert get("", logistics.as_("mallory", "customer")).status_code == 404
    assert get("", logistics.as_("wh-1", "warehouse_staff")).status_code == 404
    assert get("", {}).status_code == 401
    assert logistics.client.get(f"/logistics/parcels/{uuid.uuid4()}", headers=staff(logistics)).status_code == 404

    assert get("/quotes", staff(logistics)).status_code == 200
    assert get("/quotes", logistics.as_("mallory", "customer")).status_code == 404
    assert get("/quotes", logistics.as_("sa-1", "support_agent")).status_code == 403

    assert pay(logistics, parcel).status_code == 201
    body = {"line_code": "economy-air", "amount": "248.00"}
    for who, status in ((logistics.as_("mallory", "customer"), 404), (staff(logistics), 403), ({}, 401)):
        answer = logistics.client.post(f"/logistics/parcels/{parcel}/shipping", json=body,
                                       headers={**who, "Idempotency-Key": "ship-key-9999"})
        assert answer.status_code == status
    card = logistics.client.post(f"/logistics/parcels/{parcel}/shipping", json={**body, "card_number": "4111"},
                                 headers={**alice(logistics), "Idempotency-Key": "ship-key-8888"})
    assert card.status_code == 422 and "4111" not in card.text
    typed = logistics.client.post(f"/logistics/parcels/{parcel}/shipping",  # paid at payments, never a typed reference
                                  json={**body, "method": "paypal", "provider_reference": "PAYID-1"},
                                  headers={**alice(logistics), "Idempotency-Key": "ship-key-7777"})
    assert typed.status_code == 422

    assert logistics.client.post(f"/logistics/parcels/{parcel}/customs-declaration", json={"items": DECLARATION},
                                 headers=alice(logistics)).status_code == 403
    assert logistics.client.post(f"/logistics/parcels/{uuid.uuid4()}/customs-declaration",
                                 json={"items": DECLARATION}, headers=staff(logistics)).status_code == 404
    assert logistics.client.post(f"/logistics/parcels/{parcel}/handover", headers=alice(logistics),
                                 json={"carrier": "fake-express", "tracking_number": TRACKING}).status_code == 403
    assert logistics.client.post(f"/logistics/parcels/{parcel}/receipt-confirmation",
                                 headers=staff(logistics)).status_code == 403
    assert logistics.client.post(f"/logistics/parcels/{parcel}/receipt-confirmation",
                                 headers=logistics.as_("mallory", "customer")).status_code == 404


def test_every_route_but_the_webhook_needs_a_token(logistics):
    checked = 0
    for path, operations in logistics.client.app.openapi()["paths"].items():
        if path == "/logistics/carrier-webhooks/{carrier}" or path.startswith("/rules/"):
            continue
        for method in operations:
            answer = logistics.client.request(method.upper(), path.replace("{parcel_id}", str(uuid.uuid4())), json={})
            assert answer.status_code == 401, f"{method} {path}"
            checked += 1
    assert checked == 10  # with the customs rules, the personalised declaration, insurance and my parcels


def test_a_late_arriving_earlier_scan_does_not_move_the_parcel_back(logistics, parcel):
    pay(logistics, parcel)
    declare(logistics, parcel)
    hand_over(logistics, parcel)
    carrier_says(logistics, "customs_cleared", "evt-2")
    earlier = FakeCarrier(CARRIER_SECRET, clock=lambda: time.time() - 120)
    assert carrier_says(logistics, "in_transit", "evt-1", carrier=earlier).status_code == 200
    view = logistics.client.get(f"/logistics/parcels/{parcel}", headers=alice(logistics)).json()
    assert view["status"] == "customs_cleared"
    assert [t["status"] for t in view["tracking"]] == ["in_transit", "customs_cleared"]


def insure(harness, parcel_id, insured=True, who=None):
    return harness.client.post(f"/logistics/parcels/{parcel_id}/insurance", json={"insured": insured},
                               headers=who or alice(harness))


def test_insurance_is_bought_once_before_handover_at_the_published_premium(logistics, parcel):
    rules = logistics.client.get("/rules/insurance").json()  # no token needed
    assert (rules["premium_rate"], rules["premium_minimum"], rules["premium_cap"]) == ("0.03", "5.00", "300.00")
    bought = insure(logistics, parcel)
    assert bought.status_code == 201, bought.text
    # declared value 200.00 (two items of 100.00) × 3% = 6.00
    assert (bought.json()["declared_value"], bought.json()["premium"]) == ("200.00", "6.00")
    assert insure(logistics, parcel).status_code == 201  # the same choice again: the same answer
    assert insure(logistics, parcel, insured=False).status_code == 409
    [chosen] = [e for e in logistics.published() if e.type == "logistics.InsuranceChosen"]
    assert chosen.payload["insured"] is True and chosen.payload["premium"] == "6.00"
    assert chosen.order_id == ORDER_ID


def test_insurance_is_the_customers_choice_and_closes_at_handover(logistics, parcel):
    assert insure(logistics, parcel, who=logistics.as_("bob", "customer")).status_code == 404
    assert insure(logistics, parcel, who=staff(logistics)).status_code == 403
    pay(logistics, parcel)
    declare(logistics, parcel)
    hand_over(logistics, parcel)
    late = insure(logistics, parcel, insured=False)
    assert late.status_code == 409 and "handover" in late.json()["detail"]


def test_premiums_have_a_minimum_and_a_cap():
    from services.logistics.insurance import premium_for

    assert premium_for(Decimal("50.00")) == Decimal("5.00")
    assert premium_for(Decimal("1000.00")) == Decimal("30.00")
    assert premium_for(Decimal("50000.00")) == Decimal("300.00")


def test_a_carrier_incident_is_published_once_beside_its_exception_scan(logistics, parcel):
    pay(logistics, parcel)
    declare(logistics, parcel)
    hand_over(logistics, parcel)
    carrier = FakeCarrier(CARRIER_SECRET)
    for event_id in ("evt-seized", "evt-seized-again"):
        headers, body = carrier.webhook(TRACKING, "exception", event_id, "Felixstowe customs", incident="seized")
        assert logistics.client.post("/logistics/carrier-webhooks/fake-express", content=body,
                                     headers=headers).status_code == 200
    [incident] = [e for e in logistics.published() if e.type == "logistics.CarrierIncidentReported"]
    assert incident.payload["incident"] == "seized" and incident.payload["location"] == "Felixstowe customs"
    assert logistics.published_types().count("logistics.TrackingUpdated") == 2
    lines = logistics.client.get("/rules/shipping-lines").json()
    assert {line["code"] for line in lines["lines"]} >= {"economy-air", "express"}

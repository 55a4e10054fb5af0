"""Returns of items already delivered abroad: judged by product type and reason, shipped back with
a tracking number, refunded only after the warehouse receives and inspects them."""

from decimal import Decimal

from services.claims.compensation import evaluate
from tests.unit.test_claims_app import PARCEL, SHIRTS, VASE, claims, delivered  # noqa: F401 - fixtures

ASK = {"parcel_id": str(PARCEL), "traceability_code": SHIRTS, "reason": "changed_mind"}


def ask(claims, subject="alice", **changes):
    return claims.client.post("/returns/abroad", json={**ASK, **changes}, headers=claims.as_(subject, "customer"))


def test_the_rules_for_returns_from_abroad_are_published(claims):
    rules = claims.client.get("/rules/returns").json()
    abroad = rules["from_abroad"]
    assert abroad["window_days_after_delivery"] == {"general": 14, "electronics": 30}
    assert abroad["return_shipping_paid_by"]["otherwise"] == "customer"
    assert abroad["condition_deductions"]["used"] == "0.30" and rules["window_days_after_stock_in"] == 5


def test_a_return_from_abroad_is_refunded_only_after_receipt_and_inspection_less_a_condition_share(delivered):
    alice, bob = delivered.as_("alice", "customer"), delivered.as_("bob", "customer")
    asked = ask(delivered)
    assert asked.status_code == 201, asked.text
    item_return = asked.json()
    assert (item_return["approved"], item_return["status"], item_return["return_shipping_paid_by"]) == (
        True, "awaiting_shipment", "customer")
    assert "Yiwu" in item_return["explanation_en"] and item_return["condition_required"].startswith("unused")
    assert ask(delivered).status_code == 409  # one return per item
    return_id = item_return["return_id"]
    assert delivered.client.get(f"/returns/abroad/{return_id}", headers=bob).status_code == 404
    staff = delivered.as_("wh-1", "warehouse_staff")
    early = delivered.client.post(f"/returns/abroad/{return_id}/receipt", headers=staff)
    assert early.status_code == 409 and "not on its way back" in early.json()["detail"]
    shipped = delivered.client.post(f"/returns/abroad/{return_id}/shipment", headers=alice,
                                    json={"carrier": "Royal Mail", "tracking_number": "RM123456789GB",
                                          "postage": "60.00"})
    assert shipped.json()["status"] == "on_its_way_back"
    assert shipped.json()["shipment"]["tracking_number"] == "RM123456789GB"
    assert delivered.client.post(f"/returns/abroad/{return_id}/receipt", headers=alice).status_code == 403
    assert delivered.client.post(f"/returns/abroad/{return_id}/inspection", headers=staff, json={
        "condition": "used", "notes": "worn"}).status_code == 409  # received first
    assert not [e for e in delivered.published() if e.type == "claims.CompensationDecided"]
    assert delivered.client.post(f"/returns/abroad/{return_id}/receipt", headers=staff).json()["status"] == "received"
    inspected = delivered.client.post(f"/returns/abroad/{return_id}/inspection", headers=staff, json={
        "condition": "used", "notes": "worn once, tags cut", "photos": ["photo://return/1"]})
    assert inspected.status_code == 200, inspected.text
    # 118.00 less 30% (35.40) for its condition; the customer paid the postage (changed their mind).
    assert inspected.json()["refund"]["amount"] == "82.60" and inspected.json()["status"] == "refunded"
    [refund] = [e.payload for e in delivered.published() if e.type == "claims.CompensationDecided"]
    assert (refund["kind"], refund["claim_id"], refund["amount"]) == ("abroad_return_refund", return_id, "82.60")
    assert evaluate(refund["rule_version"], refund["inputs"]).amount == Decimal("82.60")
    types = delivered.published_types()
    assert {"claims.AbroadReturnDecided", "claims.AbroadReturnShipped", "claims.AbroadReturnReceived",
            "claims.AbroadReturnInspected"} <= set(types)
    assert delivered.client.post(f"/returns/abroad/{return_id}/inspection", headers=staff, json={
        "condition": "as_sent", "notes": "again"}).status_code == 409  # inspected and refunded once


def test_a_faulty_item_comes_back_at_the_platforms_cost_and_late_or_excluded_ones_are_refused(delivered):
    faulty = ask(delivered, traceability_code=VASE, reason="faulty").json()
    assert (faulty["approved"], faulty["return_shipping_paid_by"]) == (True, "platform")
    alice, staff = delivered.as_("alice", "customer"), delivered.as_("wh-1", "warehouse_staff")
    rid = faulty["return_id"]
    delivered.client.post(f"/returns/abroad/{rid}/shipment", headers=alice,
                          json={"carrier": "DHL", "tracking_number": "DHL-0001", "postage": "210.00"})
    delivered.client.post(f"/returns/abroad/{rid}/receipt", headers=staff)
    refunded = delivered.client.post(f"/returns/abroad/{rid}/inspection", headers=staff,
                                     json={"condition": "as_sent", "notes": "crack confirmed"}).json()
    assert refunded["refund"]["amount"] == "418.00"  # 268.00 in full + postage up to the 150.00 cap
    claim_id = delivered.client.post("/claims", headers=alice, json={
        "parcel_id": str(PARCEL), "kind": "damaged", "traceability_code": SHIRTS, "description": "torn",
        "photos": ["photo://claim/2"]}).json()["claim_id"]
    delivered.client.post(f"/claims/{claim_id}/decision", headers=delivered.as_("agent-7", "support_agent"),
                          json={"approved": True, "notes": "torn in transit"})
    paid_once = ask(delivered, reason="faulty")
    assert paid_once.status_code == 409 and "already compensated" in paid_once.json()["detail"]
    assert ask(delivered, traceability_code="KF-UNKNOWN-CODE").status_code == 422


def test_a_return_asked_after_the_window_is_refused_naming_the_deadline(delivered):
    delivered.app.clock.advance(days=15)
    late = ask(delivered, reason="faulty").json()
    assert (late["approved"], late["rule"]) == (False, "outside_window") and late["status"] == "refused"
    assert "14 days after delivery" in late["explanation_en"]


def test_an_excluded_product_type_is_refused_and_undelivered_parcels_cannot_be_returned(claims):
    from tests.unit.test_claims_app import packed, shipping_chosen

    claims.react(packed())
    claims.react(shipping_chosen())
    assert ask(claims).status_code == 409  # not delivered yet
    assert ask(claims, subject="bob").status_code == 404


def test_underwear_is_never_returned_from_abroad(delivered):
    refused = ask(delivered, product_type="underwear").json()
    assert (refused["approved"], refused["rule"]) == (False, "excluded_underwear")
    shipped = delivered.client.post(f"/returns/abroad/{refused['return_id']}/shipment",
                                    headers=delivered.as_("alice", "customer"),
                                    json={"carrier": "DHL", "tracking_number": "DHL-0002"})
    assert shipped.status_code == 409 and "refused" in shipped.json()["detail"]

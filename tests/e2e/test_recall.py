"""A recall on the real broker and database and on the embedded default: the batch's items still in
the warehouse are held and never packed, their customer is asked (refund or re-purchase) and sees it
on the timeline; the shipped item gets a recall claim, decided by the compensation rule book and
paid to the balance, once however often the recall is redelivered."""

from __future__ import annotations

from decimal import Decimal

from contracts.warehouse import ItemRecalled
from kongfu.local import wait_until
from tests.support import publish_as, topic_envelopes


def test_a_recall_holds_notifies_and_hands_shipped_items_to_after_sales(trip_on_both):
    trip = trip_on_both
    mug = {"product_url": "https://detail.1688.com/offer/623456789012.html", "sku": "celadon mug", "quantity": 2,
           "unit_price": "12.00"}
    order = trip.place_and_pay([mug, {**mug, "sku": "celadon bowl"}])
    order_id = order["order_id"]
    first, second = trip.tasks(order_id, 2)
    codes = [trip.receive(order_id, trip.purchase_and_ship(task, "general", "24.00"), task["line_no"])
             for task in (first, second)]
    for code in codes:
        trip.inspect_and_store(code, 2, high_risk=False)
    shipped, held = codes
    trip.consolidate_and_pack([shipped])

    batch = trip.call("warehouse", "GET", f"/warehouse/batches/items?merchant_id={trip.merchant_id}",
                      "warehouse_staff").json()
    assert {i["traceability_code"]: i["status"] for i in batch} == {shipped: "packed", held: "stored"}
    recall = trip.call("warehouse", "POST", "/warehouse/recalls", "risk_analyst", expect=201, json={
        "merchant_id": trip.merchant_id, "item_id": "623456789012", "reason": "lead in the glaze"}).json()
    assert recall["held"] == [held] and recall["shipped"] == [shipped]

    refused = trip.as_customer("warehouse", "POST", "/warehouse/shipment-requests", expect=409,
                               json={"traceability_codes": [held], "destination_country": "GB"})
    assert "recalled" in refused.json()["detail"]
    # The shipped item's recall, redelivered (after the original, on the same order's partition).
    original = wait_until(what="the shipped item's recall on the topic", condition=lambda: next(
        (e.payload for e in topic_envelopes(trip.platform, "warehouse")
         if e.type == "warehouse.ItemRecalled" and e.payload["traceability_code"] == shipped), None))
    publish_as(trip.platform, "warehouse", ItemRecalled(**original), order_id=order_id)
    claim = wait_until(what="the shipped item's recall claim to be decided", condition=lambda: next(
        (c for c in trip.as_customer("claims", "GET", "/me/claims").json()["items"]
         if c["kind"] == "recall" and c["decision"]), None))
    assert claim["claim"]["traceability_code"] == shipped
    assert claim["decision"]["rule"] == "recalled_item_full_value" and claim["decision"]["rule_version"]
    amount = Decimal(claim["decision"]["amount"])
    assert amount > 0 and "lead in the glaze" in claim["claim"]["description"]
    wait_until(what="the recall compensation on the balance", condition=lambda: Decimal(
        trip.as_customer("payments", "GET", "/me/balance").json()["balance"]) == amount)
    decided = [e for e in trip.timeline_until(order_id, "claim_decided") if e["stage"] == "claim_decided"]
    assert len(decided) == 1

    asked = trip.wait_order(order_id, lambda o: o["pending_decisions"], "the customer to be asked")
    (question,) = asked["pending_decisions"]
    assert question["kind"] == "recalled" and question["details"]["traceability_code"] == held
    after = trip.as_customer("orders", "POST", f"/orders/{order_id}/lines/2/decision",
                             json={"choice": "refund"}).json()
    assert after["lines"][1]["status"] == "cancelled" and after["refunds"][0]["line_no"] == 2
    recalled = [e for e in trip.timeline_until(order_id, "recalled") if e["stage"] == "recalled"]
    assert {e["details"]["traceability_code"] for e in recalled} == {held, shipped}

    published = {e.payload["traceability_code"]: e.payload for e in topic_envelopes(trip.platform, "warehouse")
                 if e.type == "warehouse.ItemRecalled"}
    assert published[shipped]["shipped"] is True and published[shipped]["parcel_id"]
    assert published[held]["shipped"] is False

    assert len([c for c in trip.as_customer("claims", "GET", "/me/claims").json()["items"]
                if c["kind"] == "recall"]) == 1
    assert len([e for e in trip.timeline(order_id) if e["stage"] == "claim_decided"]) == 1

"""Customs on the real broker and database and on the embedded default: the duty estimate in the
quote for two destinations, and an under-declared power bank refused with the reason."""

from __future__ import annotations


def test_duties_in_the_quote_and_an_under_declaration_refused(trip_on_both):
    trip = trip_on_both
    bank = {"product_url": "https://item.jd.com/100012043979.html", "title": "Power bank 10000mAh",
            "sku": "white", "quantity": 1, "unit_price": "129.00"}
    order = trip.place_and_pay([bank, {**bank, "sku": "black"}])
    codes = [trip.receive(order["order_id"], trip.purchase_and_ship(task, "general", "129.00"), task["line_no"])
             for task in trip.tasks(order["order_id"], 2)]
    for code in codes:
        trip.inspect_and_store(code, 1, high_risk=False)
    to_gb = trip.consolidate_and_pack([codes[0]], "GB")
    to_us = trip.consolidate_and_pack([codes[1]], "US")

    duties = {}
    for parcel_id in (to_gb, to_us):
        trip.quotes(parcel_id)
        quote = trip.as_customer("logistics", "GET", f"/logistics/parcels/{parcel_id}/quotes").json()
        duties[parcel_id] = quote["duties"]
    assert (duties[to_gb]["currency"], duties[to_gb]["tax_name"], duties[to_gb]["duty"]) == ("GBP", "VAT", "0.00")
    assert (duties[to_us]["currency"], duties[to_us]["duty"]) == ("USD", "1.82")  # 10% of 129 CNY in USD
    assert duties[to_gb]["table_version"] == duties[to_us]["table_version"]

    declaration = {"items": [{"traceability_code": codes[0], "hs_code": "850760", "description": "power bank",
                              "declared_value": "0.50", "currency": "USD"}]}
    refused = trip.call("logistics", "POST", f"/logistics/parcels/{to_gb}/customs-declaration", "logistics_staff",
                        expect=422, json=declaration)
    assert "more than 20% under" in refused.json()["detail"] and "at least" in refused.json()["detail"]
    assert "0.50" not in refused.json()["detail"]  # what the caller sent is never echoed
    trip.as_customer("logistics", "POST", f"/logistics/parcels/{to_gb}/personalised-declaration", json={
        "items": [{k: declaration["items"][0][k] for k in ("traceability_code", "declared_value", "currency")}],
        "warning_accepted": True})
    trip.call("logistics", "POST", f"/logistics/parcels/{to_gb}/customs-declaration", "logistics_staff",
              json=declaration)

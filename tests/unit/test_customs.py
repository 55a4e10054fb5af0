"""Customs: declared values against the purchase price, personalised declarations, duty estimates."""

import uuid
from decimal import Decimal

from services.logistics.customs import estimate, under_declaration
from tests.unit.test_logistics_app import alice, declare, logistics, packed, parcel  # noqa: F401 - fixtures

POWER_BANK = [{"traceability_code": "KF-VASE-01", "hs_code": "850760", "description": "power bank",
               "declared_value": "0.50", "currency": "USD"},
              {"traceability_code": "KF-SHIRT-02", "hs_code": "610910", "description": "cotton shirt",
               "declared_value": "100.00", "currency": "CNY"}]


def test_a_value_under_the_tolerance_is_refused_with_the_reason():
    problem = under_declaration("KF-1", Decimal("100.00"), Decimal("0.50"), "USD")
    assert "0.50 USD" in problem and "100.00 CNY" in problem and "at least 11.27 USD" in problem
    assert under_declaration("KF-1", Decimal("100.00"), Decimal("80.00"), "CNY") is None  # 20% under: fine
    assert under_declaration("KF-1", Decimal("100.00"), Decimal("11.27"), "USD") is None


def test_duty_follows_the_destinations_de_minimis():
    small, large = estimate("GB", Decimal("900.00")), estimate("GB", Decimal("2700.00"))  # £100 and £300
    assert (small["duty"], small["tax"], small["currency"]) == ("0.00", "20.00", "GBP")
    assert (large["duty"], large["tax"]) == ("12.00", "62.40")
    us = estimate("US", Decimal("710.00"))
    assert (us["duty"], us["tax"], us["currency"]) == ("10.00", "0.00", "USD")
    assert estimate("ZZ", Decimal("1"))["known"] is False


def test_an_under_declared_parcel_is_refused_until_the_customer_declares_it_themselves(logistics, parcel):
    refused = declare(logistics, parcel, POWER_BANK)
    assert refused.status_code == 422 and "more than 20% under the purchase price" in refused.json()["detail"]
    assert "0.50" not in refused.json()["detail"]  # what the caller sent is never echoed
    assert [e for e in logistics.published() if e.type == "logistics.CustomsDeclared"] == []
    own = {"items": [{"traceability_code": "KF-VASE-01", "declared_value": "0.50", "currency": "USD"}]}
    unwarned = logistics.client.post(f"/logistics/parcels/{parcel}/personalised-declaration", headers=alice(logistics),
                                     json={**own, "warning_accepted": False})
    assert unwarned.status_code == 422 and "seize" in unwarned.json()["detail"]
    assert logistics.client.post(f"/logistics/parcels/{parcel}/personalised-declaration",
                                 headers=alice(logistics), json={**own, "warning_accepted": True}).status_code == 200
    assert declare(logistics, parcel, POWER_BANK).status_code == 200


def test_the_quote_carries_the_duty_estimate_for_its_destination(logistics):
    for country, currency in (("GB", "GBP"), ("US", "USD")):
        parcel_id = uuid.uuid4()
        event = packed(parcel_id).model_copy(update={"destination_country": country})
        logistics.react(event)
        duties = logistics.client.get(f"/logistics/parcels/{parcel_id}/quotes", headers=alice(logistics)).json()["duties"]
        assert duties["destination_country"] == country and duties["currency"] == currency
        assert duties["known"] and Decimal(duties["goods_value"]) > 0 and duties["table_version"]


def test_a_customs_hold_is_published_apart_from_ordinary_scans(logistics, parcel):  # noqa: F811
    from tests.unit.test_logistics_app import carrier_says, hand_over, pay

    pay(logistics, parcel)
    declare(logistics, parcel)
    hand_over(logistics, parcel)
    assert carrier_says(logistics, "customs_hold", "evt-hold").status_code == 200
    (held,) = [e for e in logistics.published() if e.type == "logistics.CustomsStatusReported"]
    assert held.payload["status"] == "customs_hold" and "held by customs" in held.payload["location"]
    view = logistics.client.get(f"/logistics/parcels/{parcel}", headers=alice(logistics)).json()
    assert view["status"] == "customs_hold"


def test_customs_holds_and_seizures_reach_the_timeline():
    from services.orders.timeline import entry_for

    for status, chinese in (("customs_hold", "海关扣留查验"), ("customs_seized", "被海关没收")):
        entry = entry_for("logistics.CustomsStatusReported", "carrier:fake-express", "2026-11-28T10:00:00+00:00",
                          {"status": status, "carrier_time": "2026-11-28T09:00:00+00:00", "carrier": "fake-express"})
        assert (entry["stage"], entry["name_zh"]) == (status, chinese)

"""Orders refuses lines at placement: screening rules, rights holders' takedowns, blocked merchants."""

import pytest

from contracts.purchasing import MerchantBlocked, MerchantUnblocked
from services.orders.bootstrap import bootstrap
from tests.apptest import ServiceHarness

BAG = "https://item.taobao.com/item.htm?id=6500000001"
SHIRT = "https://item.taobao.com/item.htm?id=6500000002"


def item(url: str = SHIRT, title: str | None = "Cotton T-shirt", sku: str = "white;M") -> dict:
    return {"product_url": url, "title": title, "sku": sku, "quantity": 1, "unit_price": "80.00"}


@pytest.fixture
def orders(tmp_path):
    return ServiceHarness(bootstrap, tmp_path)


@pytest.fixture
def alice(orders):
    return orders.as_("alice", "customer")


def place(orders, alice, *items, destination: str = "GB"):
    return orders.client.post("/orders", headers=alice, json={"destination_country": destination, "items": list(items)})


def test_a_counterfeit_line_is_refused_with_its_rule_and_nothing_is_placed(orders, alice):
    answer = place(orders, alice, item(), item(BAG, "Replica designer bag, fake leather, AAA copy", "brown"))
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    (refused,) = body["refused_lines"]
    assert refused["line_no"] == 2 and refused["rule"] == "counterfeit-indicator"
    assert "line 2" in body["detail"] and body["rules_version"] == "screening-2026.12"
    assert orders.published_types() == []


def test_a_prohibited_sku_is_refused_without_a_title(orders, alice):
    answer = place(orders, alice, item(title=None, sku="airsoft pistol black"))
    assert answer.json()["refused_lines"][0]["rule"] == "prohibited-weapons"


def test_a_destination_restricted_item_is_refused_for_that_country_only(orders, alice):
    vape = item(title="Disposable vape 5000 puffs", sku="mint")
    refused = place(orders, alice, vape, destination="AU")
    assert refused.status_code == 422 and refused.json()["refused_lines"][0]["rule"] == "destination-au-vapes"
    assert place(orders, alice, vape, destination="GB").status_code == 201


def test_a_takedown_blocks_the_listing(orders, alice):
    analyst = orders.as_("rita", "risk_analyst")
    request = {"product_url": BAG, "rights_holder": "Maison Example", "reason": "trademark infringement"}
    assert orders.client.post("/screening/takedowns", headers=alice, json=request).status_code == 403
    taken = orders.client.post("/screening/takedowns", headers=analyst, json=request)
    assert taken.status_code == 201 and taken.json()["blocked"]
    refused = place(orders, alice, item(BAG, "Leather bag"))
    assert refused.status_code == 422
    (line,) = refused.json()["refused_lines"]
    assert line["rule"] == "rights-holder-takedown" and "Maison Example" in line["reason"]
    assert place(orders, alice, item(SHIRT)).status_code == 201


def test_a_listing_of_a_blocked_merchant_is_refused_until_it_is_unblocked(orders, alice):
    merchant = {"platform": "taobao", "merchant_id": "m-shady", "merchant_name": "Shady Outlet",
                "listings": ["6500000001"], "reason": "fake reviews", "decided_by": "risk_analyst:rita"}
    orders.react(MerchantBlocked(status="blocked", rule="risk-analyst-decision", rules_version="merchant-rules-2026.11",
                                 **merchant))
    refused = place(orders, alice, item(BAG, "Leather bag"))
    assert refused.status_code == 422
    (line,) = refused.json()["refused_lines"]
    assert line["rule"] == "blocked-merchant" and "fake reviews" in line["reason"]
    assert "another seller" in line["reason"] and "another seller" in refused.json()["detail"]
    orders.react(MerchantUnblocked(decision="unblocked", **merchant))
    assert place(orders, alice, item(BAG, "Leather bag")).status_code == 201


def test_the_rules_are_published_without_a_token(orders):
    rules = orders.client.get("/screening/rules")
    assert rules.status_code == 200 and rules.json()["version"] == "screening-2026.12"
    assert {"prohibited", "counterfeit", "protected_brand", "destination"} <= {r["kind"] for r in rules.json()["rules"]}


def test_a_recalled_item_still_here_asks_its_customer_refund_or_repurchase(orders, alice):
    import uuid

    from contracts.warehouse import ItemRecalled

    order = place(orders, alice, item()).json()
    recalled = {"traceability_code": "KF0000000000A", "order_id": order["order_id"], "customer_id": "alice",
                "line_no": 1, "recall_id": str(uuid.uuid4()), "reason": "lead in the glaze"}
    orders.react(ItemRecalled(**recalled, shipped=True, parcel_id=str(uuid.uuid4())))  # after-sales' case
    assert orders.client.get(f"/orders/{order['order_id']}", headers=alice).json()["pending_decisions"] == []
    orders.react(ItemRecalled(**recalled, shipped=False, parcel_id=None))
    (question,) = orders.client.get(f"/orders/{order['order_id']}", headers=alice).json()["pending_decisions"]
    assert question["kind"] == "recalled" and question["choices"] == ["repurchase", "refund"]
    assert question["details"]["reason"] == "lead in the glaze"

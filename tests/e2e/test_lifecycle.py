"""One order from product link to compensation decision, through all six services, with the
timeline, traceability record and compensation decisions rebuilt from the log."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest

from kongfu.demo import Lifecycle
from services.logistics.carriers import FakeCarrier
from kongfu.local import wait_until
from kongfu.registry import SERVICES
from service_runtime.eventlog import topic_for
from tests.support import CARRIER_SECRET, ROOT, auth, envelopes, metric, token

IN_ORDER = ["order_placed", "payment_received", "order_confirmed", "purchasing_started", "purchased",
            "merchant_shipped", "warehouse_entry", "special_inspection", "quality_inspection", "stored",
            "shipping_requested", "packed", "shipping_paid", "customs_declared", "shipped", "in_transit",
            "customs_cleared", "out_for_delivery", "delivered", "receipt_confirmed", "claim_opened",
            "claim_decided"]
PUBLISHERS = tuple(s for s in SERVICES if s != "notifications")  # notifications only sends, it publishes nothing
PROJECTIONS = ("timeline", "traceability", "compensation_decisions", "parcels", "ledger")


def journey(platform: dict) -> Lifecycle:
    return Lifecycle(platform, lambda subject, role: token(subject, role), FakeCarrier(CARRIER_SECRET).webhook)


@pytest.fixture(params=["platform_on_stack", "embedded"])
def platform(request):
    return request.getfixturevalue(request.param)


def live_checksum(platform: dict, name: str) -> str:
    response = httpx.get(f"{platform['orders']}/admin/projections/{name}/checksum", headers=auth("audit-1", "auditor"))
    if response.status_code == 404:  # the projection lives in another gateway on the stack
        owner = {"traceability": "warehouse", "compensation_decisions": "claims", "parcels": "logistics", "ledger": "payments"}[name]
        response = httpx.get(f"{platform[owner]}/admin/projections/{name}/checksum", headers=auth("audit-1", "auditor"))
    assert response.status_code == 200, response.text
    return response.json()["checksum"]


def settled_checksum(platform: dict, name: str) -> str:
    """The live projection's checksum once it has stopped changing (it has caught up)."""
    previous = live_checksum(platform, name)
    for _ in range(40):
        time.sleep(0.5)
        current = live_checksum(platform, name)
        if current == previous:
            return current
        previous = current
    raise AssertionError(f"projection {name} kept changing")


def test_full_lifecycle_with_projections_rebuilt_from_the_log(platform):
    trip = journey(platform)
    result = trip.full_journey()
    vase, shirts = result["codes"]

    timeline = trip.timeline_until(result["order_id"], "claim_decided")
    stages = [entry["stage"] for entry in timeline]
    assert set(IN_ORDER) <= set(stages), sorted(set(IN_ORDER) - set(stages))
    positions = [stages.index(stage) for stage in IN_ORDER]
    assert positions == sorted(positions), stages
    for entry in timeline:
        assert entry["name_en"] and re.search(r"[\u4e00-\u9fff]", entry["name_zh"]) and entry["actor"]
    assert stages.count("delivered") == 1
    assert next(e for e in timeline if e["stage"] == "purchased")["actor"] == "purchasing team"  # not who
    audited = httpx.get(f"{platform['orders']}/orders/{result['order_id']}/timeline",
                        headers=auth("audit-1", "auditor")).json()["entries"]
    assert next(e for e in audited if e["stage"] == "purchased")["actor"] == "purchasing_agent:purchasing-agent-1"
    assert not any(e["actor"].startswith(("warehouse_staff:", "purchasing_agent:", "logistics_staff:",
                                          "support_agent:")) for e in timeline)
    assert next(e for e in timeline if e["stage"] == "delivered")["actor"] == "carrier:fake-express"
    assert next(e for e in timeline if e["stage"] == "order_confirmed")["actor"] == "system:orders"

    record = trip.trace(vase)
    assert record["origin"]["merchant_name"] == "Hangzhou Good Goods Store"
    assert record["origin"]["receipt_ref"].startswith("receipt://taobao/")
    assert record["origin"]["platform"] == "taobao"
    assert len(record["warehouse"]["inspection"]["photos"]) == 3
    assert record["warehouse"]["special_inspection"]["passed"] is True
    assert record["warehouse"]["stored"]["location"].startswith("A-03-")
    assert record["parcel"]["parcel_id"] == result["parcel_id"] and record["parcel"]["reinforced"] is True
    assert record["customs"]["declaration"]["hs_code"] == "691390"
    assert record["shipment"]["tracking_number"] == result["tracking"]
    assert [t["status"] for t in record["tracking"]] == ["in_transit", "customs_cleared", "out_for_delivery",
                                                         "delivered"]
    assert record["delivery"]["actor"] == f"customer:{trip.customer}"
    assert all(entry["actor"] for entry in record["history"])
    # The customer reads teams (the QC team inspected), never a member of staff; an auditor reads who.
    assert "warehouse_staff:" not in str(record) and "staff_id" not in str(record)
    assert record["warehouse"]["inspection"]["team"] == "QC team"
    audited = trip.call("warehouse", "GET", f"/warehouse/trace/{vase}", "auditor").json()
    assert audited["warehouse"]["inspection"]["actor"].startswith("warehouse_staff:")
    assert audited["warehouse"]["inspection"]["staff_id"]
    assert trip.trace(shirts)["origin"]["platform"] == "jd"

    claim = result["claim"]
    assert Decimal(claim["amount"]) == Decimal("268.00")  # a damaged item: its full value
    decision = httpx.get(f"{platform['claims']}/compensation-decisions/{claim['claim_id']}",
                         headers=auth(trip.customer, "customer"))
    assert decision.status_code == 200, decision.text
    assert decision.json()["decision"]["rule_version"] and decision.json()["decision"]["amount"] == "268.00"
    assert "decided_by" not in decision.json()["decision"]  # which agent decided stays inside
    as_support = httpx.get(f"{platform['claims']}/compensation-decisions/{claim['claim_id']}",
                           headers=auth("support-2", "support_agent"))
    assert as_support.json()["decision"]["decided_by"] == "support-agent-1"
    listed = httpx.get(f"{platform['claims']}/compensation-decisions", headers=auth("audit-1", "auditor")).json()
    assert [d["decision"]["amount"] for d in listed if d["claim_id"] == claim["claim_id"]] == ["268.00"]

    # One settlement per parcel: the goods' payment carried no international shipping (the quote
    # showed it as an estimate, not charged), and the parcel's line price was paid once, at shipping.
    order = httpx.get(f"{platform['orders']}/orders/{result['order_id']}", headers=auth(trip.customer, "customer")).json()
    estimate = next(line for line in order["quote"]["lines"] if line["code"] == "international_shipping_estimate")
    assert Decimal(estimate["amount"]) == 0 and "not charged now" in estimate["label"]
    assert [Decimal(p["amount"]) for p in order["payments"]] == [Decimal(order["quote"]["total"])]
    (shipping,) = [e for e in timeline if e["stage"] == "shipping_paid"]
    line_prices = {l["code"]: l["price"] for l in trip.quotes(result["parcel_id"]) if l.get("price")}
    assert Decimal(shipping["details"]["amount"]) == Decimal(line_prices[shipping["details"]["line_code"]])

    # The compensation is credited to the balance by default, with its rule version, in the ledger.
    ledger = wait_until(lambda: (page := httpx.get(f"{platform['payments']}/me/ledger",
                                                   headers=auth(trip.customer, "customer")).json())
                        and any(m["kind"] == "compensation" for m in page["movements"]) and page,
                        what="the compensation in the ledger")
    (credit,) = [m for m in ledger["movements"] if m["kind"] == "compensation"]
    assert Decimal(credit["amount"]) == Decimal("268.00") and credit["rule_version"]
    assert [m["kind"] for m in ledger["movements"]] == ["card_charge", "card_charge", "compensation"]
    shipping_charge = ledger["movements"][1]  # the parcel's bill, paid once at payments, itemised
    assert "shipping" in shipping_charge["reason"] and shipping_charge["lines"][0]["code"] == "shipping"
    assert Decimal(shipping_charge["amount"]) == Decimal(shipping["details"]["amount"])
    balance = httpx.get(f"{platform['payments']}/me/balance", headers=auth(trip.customer, "customer")).json()
    assert Decimal(balance["balance"]) == Decimal(ledger["balance"]) == Decimal("268.00")

    # Another customer sees none of it.
    mallory = auth("mallory", "customer")
    assert httpx.get(f"{platform['orders']}/orders/{result['order_id']}", headers=mallory).status_code == 404
    assert httpx.get(f"{platform['orders']}/orders/{result['order_id']}/timeline", headers=mallory).status_code == 404
    assert httpx.get(f"{platform['warehouse']}/warehouse/trace/{vase}", headers=mallory).status_code == 404
    assert httpx.get(f"{platform['warehouse']}/warehouse/items/{vase}", headers=mallory).status_code == 404
    assert httpx.get(f"{platform['logistics']}/logistics/parcels/{result['parcel_id']}", headers=mallory).status_code == 404
    assert httpx.get(f"{platform['warehouse']}/warehouse/parcels/{result['parcel_id']}", headers=mallory).status_code == 404
    assert httpx.get(f"{platform['claims']}/claims/{claim['claim_id']}", headers=mallory).status_code == 404
    assert httpx.get(f"{platform['claims']}/compensation-decisions/{claim['claim_id']}",
                     headers=mallory).status_code == 404
    assert httpx.get(f"{platform['claims']}/compensation-decisions", headers=mallory).status_code == 403

    # The customer's listings show the order, its items, the parcel and the claim; Mallory's show none.
    me = auth(trip.customer, "customer")
    orders = httpx.get(f"{platform['orders']}/orders", headers=me).json()["items"]
    assert [o["order_id"] for o in orders] == [result["order_id"]] and orders[0]["total"]
    items = wait_until(lambda: (i := httpx.get(f"{platform['warehouse']}/me/items", headers=me).json()["items"])
                       and {x["state"] for x in i} == {"receipt_confirmed", "claim_opened"} and i,
                       what="my items delivered, the vase claimed")
    assert sorted(i["traceability_code"] for i in items) == sorted([vase, shirts])
    assert all(len(i["photos"]) == 3 and i["storage"]["fees_due"] == "0.00" for i in items)
    parcels = wait_until(lambda: httpx.get(f"{platform['logistics']}/me/parcels", headers=me).json()["items"],
                         what="my parcels")
    assert parcels[0]["parcel_id"] == result["parcel_id"] and parcels[0]["tracking_number"] == result["tracking"]
    claims = wait_until(lambda: (c := httpx.get(f"{platform['claims']}/me/claims", headers=me).json()["items"])
                        and c[0]["decision"] and c, what="my claim decided")
    assert claims[0]["decision"]["amount"] == "268.00" and "decided_by" not in claims[0]["decision"]
    for service, path in (("orders", "/orders"), ("warehouse", "/me/items"), ("logistics", "/me/parcels"),
                          ("claims", "/me/claims")):
        assert httpx.get(f"{platform[service]}{path}", headers=mallory).json()["items"] == []

    # Replay: each projection rebuilt from offset 0 gives the live checksum.
    for name in PROJECTIONS:
        live = settled_checksum(platform, name)
        out = subprocess.run([sys.executable, "-m", "kongfu.cli", "replay", name],
                             env={**os.environ, **platform["env"]}, cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        rebuilt = re.search(r"checksum ([0-9a-f]{64})", out.stdout).group(1)
        assert rebuilt == live, f"{name}: rebuilt {rebuilt} != live {live}"
        assert settled_checksum(platform, name) == live


def test_mistyped_traceability_code_is_rejected_not_mismatched(platform_on_stack):
    trip = journey(platform_on_stack)
    order = trip.place_and_pay([{"product_url": "https://detail.1688.com/offer/623456789012.html",
                                 "sku": "mug", "quantity": 1, "unit_price": "12.00"}])
    (task,) = trip.tasks(order["order_id"], 1)
    code = trip.receive(order["order_id"], trip.purchase_and_ship(task, "general", "12.00"), 1)
    typo = code[:-2] + ("0" if code[-2] != "0" else "1") + code[-1]
    response = httpx.get(f"{platform_on_stack['warehouse']}/warehouse/trace/{typo}", headers=auth(trip.customer, "customer"))
    assert response.status_code == 422 and "check" in response.json()["detail"].lower()


def test_republishing_every_service_after_a_lifecycle_has_no_second_effect(platform_on_stack):
    """Every service's relay batches published again after a whole lifecycle: no service writes
    a new event (no second charge, purchase task, refund or compensation) and no projection
    changes."""
    platform = platform_on_stack
    trip = journey(platform)
    result = trip.full_journey()
    trip.timeline_until(result["order_id"], "claim_decided")
    kafka, namespace = platform["env"]["KONGFU_KAFKA_BOOTSTRAP"], platform["namespace"]

    def event_ids() -> dict[str, set[str]]:
        return {s: {str(e.event_id) for e in envelopes(kafka, topic_for(s, namespace))} for s in PUBLISHERS}

    def duplicates_seen() -> float:
        return sum(metric(platform[s], "kongfu_events_duplicate_total")
                   + metric(platform[s], "kongfu_events_unchanged_total") for s in SERVICES)

    checksums = {name: settled_checksum(platform, name) for name in PROJECTIONS}
    before, seen_before = event_ids(), duplicates_seen()
    republished = 0
    for service in PUBLISHERS:
        out = subprocess.run([sys.executable, "-m", "kongfu.cli", "republish", service],
                             env={**os.environ, **platform["env"]}, cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        republished += int(re.search(r"re-published (\d+)", out.stdout).group(1))
    assert republished >= sum(len(ids) for ids in before.values())

    readings = []

    def consumers_settled() -> bool:  # duplicates counted, and no more arriving
        readings.append(duplicates_seen())
        return len(readings) > 4 and readings[-1] > seen_before and readings[-1] == readings[-5]

    wait_until(consumers_settled, interval=0.5, what="every consumer to see the re-published events")
    assert event_ids() == before
    assert {name: settled_checksum(platform, name) for name in PROJECTIONS} == checksums


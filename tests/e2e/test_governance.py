"""Governance journeys on the real broker and database and on the embedded default: a confirmed
counterfeit blocks its merchant for good, a failure rate over the threshold waits for an analyst,
and screening refuses prohibited, infringing and destination-restricted lines at order time."""

from __future__ import annotations

from decimal import Decimal

from kongfu.demo import Lifecycle
from kongfu.local import wait_until
from tests.support import topic_envelopes


def listing(item_id: str, title: str = "Canvas tote bag", quantity: int = 2) -> dict:
    return {"product_url": f"https://item.taobao.com/item.htm?id={item_id}", "title": title, "sku": "natural",
            "quantity": quantity, "unit_price": "40.00"}


def buy(trip: Lifecycle, task: dict, expect=(200, 201)):
    return trip.call("purchasing", "POST", f"/purchasing/tasks/{task['task_id']}/purchase", "purchasing_agent",
                     expect=expect, json={
                         "platform_order_no": f"TB{task['task_id'][:8]}", "amount_paid": "80.00",
                         "merchant_id": trip.merchant_id, "merchant_name": "Yiwu Totes",
                         "receipt_ref": f"receipt://taobao/{task['task_id']}", "category": "general"})


def merchant(trip: Lifecycle) -> dict:
    return trip.call("purchasing", "GET", f"/purchasing/merchants/taobao/{trip.merchant_id}", "risk_analyst",
                     expect=(200, 404)).json()


def test_a_confirmed_counterfeit_blocks_the_merchant_and_its_listings(trip_on_both):
    trip = trip_on_both
    item_id = str(int(trip.merchant_id[2:], 16))
    fake_order = trip.place_and_pay([listing(item_id)])
    other_order = trip.place_and_pay([listing(item_id + "1")])
    (task,) = trip.tasks(fake_order["order_id"], 1)
    code = trip.receive(fake_order["order_id"], trip.purchase_and_ship(task, "general", "80.00"), 1)

    # The warehouse finds it counterfeit at inspection; claims confirms it (the real path, not the test).
    trip.call("warehouse", "POST", f"/warehouse/items/{code}/inspection", "warehouse_staff", json={
        "quantity_checked": 2, "exterior_condition": "intact", "counterfeit": True,
        "photos": [f"photo://{code}/logo", f"photo://{code}/label", f"photo://{code}/stitching"]})
    blocked = wait_until(what="the merchant to be blocked", condition=lambda: (
        m := merchant(trip)).get("status") == "blocked_permanently" and m)
    assert blocked["block_rule"] == "counterfeit-zero-tolerance" and blocked["reputation"]["counterfeits"] == 1
    (confirmed,) = [e.payload for e in topic_envelopes(trip.platform, "claims")
                    if e.type == "claims.CounterfeitConfirmed" and e.payload["traceability_code"] == code]
    assert confirmed["source"] == "inspection" and confirmed["merchant_id"] == trip.merchant_id
    assert Decimal(confirmed["refund_amount"]) >= Decimal("80.00")  # the line plus its share of the service fee
    trip.timeline_until(fake_order["order_id"], "counterfeit_confirmed")

    (other_task,) = trip.tasks(other_order["order_id"], 1)
    refused = buy(trip, other_task, expect=422).json()
    assert "blocked permanently" in refused["detail"] and "counterfeit" in refused["detail"]

    def refused_at_order_time():
        answer = trip.as_customer("orders", "POST", "/orders", expect=(201, 422),
                                  json={"destination_country": "GB", "items": [listing(item_id)]})
        return answer.status_code == 422 and answer.json()

    problem = wait_until(what="orders to learn the blocked listing", condition=refused_at_order_time)
    (line,) = problem["refused_lines"]
    assert line["rule"] == "blocked-merchant" and "counterfeit" in line["reason"]
    assert "another seller" in problem["detail"]
    lift = trip.call("purchasing", "POST", f"/purchasing/merchants/taobao/{trip.merchant_id}/decisions",
                     "risk_analyst", expect=409, json={"decision": "unblock", "reason": "asked nicely"})
    assert "permanently" in lift.json()["detail"]


def test_a_failure_rate_over_the_threshold_waits_for_an_analyst(trip_on_both):
    trip = trip_on_both
    order = trip.place_and_pay([listing(f"77{n}{int(trip.merchant_id[2:], 16)}") for n in range(4)])
    order_id = order["order_id"]
    tasks = trip.tasks(order_id, 4)
    codes = [trip.receive(order_id, trip.purchase_and_ship(task, "general", "80.00"), task["line_no"])
             for task in tasks[:3]]
    for code, passed in zip(codes, (False, True, False)):
        trip.inspect_and_store(code, 2, high_risk=False, passed=passed)

    def queued():
        queue = trip.call("purchasing", "GET", "/purchasing/merchant-review-queue", "risk_analyst").json()
        return next((m for m in queue if m["merchant_id"] == trip.merchant_id), None)

    waiting = wait_until(what="the merchant in the review queue", condition=queued)
    assert waiting["block_rule"] == "qc-failure-rate" and waiting["reputation"]["inspected"] == 3
    assert "pending review" in buy(trip, tasks[3], expect=422).json()["detail"]

    approved = trip.call("purchasing", "POST", f"/purchasing/merchants/taobao/{trip.merchant_id}/decisions",
                         "risk_analyst", json={"decision": "approve", "reason": "damage was the courier's"}).json()
    assert approved["status"] == "active" and approved["decisions"][-1]["reason"] == "damage was the courier's"
    assert buy(trip, tasks[3]).status_code == 200


def test_prohibited_infringing_and_destination_restricted_lines_are_refused_at_order_time(trip_on_both):
    trip = trip_on_both
    def place(destination: str, *items: dict, expect=422):
        return trip.as_customer("orders", "POST", "/orders", expect=expect,
                                json={"destination_country": destination, "items": list(items)})

    replica = place("GB", listing("5100000001"), listing("5100000002", "Replica designer bag, fake leather, AAA copy"))
    assert [(l["line_no"], l["rule"]) for l in replica.json()["refused_lines"]] == [(2, "counterfeit-indicator")]
    weapon = place("GB", listing("5100000003", "Airsoft pistol, 6mm"))
    assert weapon.json()["refused_lines"][0]["rule"] == "prohibited-weapons"
    vape = listing("5100000004", "Disposable vape 5000 puffs")
    assert place("AU", vape).json()["refused_lines"][0]["rule"] == "destination-au-vapes"
    assert place("GB", vape, expect=201).json()["status"] == "awaiting_payment"

    taken = trip.call("orders", "POST", "/screening/takedowns", "risk_analyst", expect=201, json={
        "product_url": listing("5100000005")["product_url"], "rights_holder": "Maison Example",
        "reason": "trademark infringement"})
    assert taken.json()["blocked"]
    takedown = place("GB", listing("5100000005"))
    assert takedown.json()["refused_lines"][0]["rule"] == "rights-holder-takedown"
    rules = trip.call("orders", "GET", "/screening/rules", "").json()
    assert rules["version"] == "screening-2026.12"


def test_an_uncertain_line_is_held_for_a_compliance_analyst(trip_on_both):
    trip = trip_on_both
    suffix = int(trip.merchant_id[2:], 16) % 10**6
    belt = listing(f"52{suffix:06d}1", "Gucci belt, black leather", quantity=1)
    order = trip.place_and_pay([listing(f"52{suffix:06d}0"), belt])
    order_id = order["order_id"]
    held = order["lines"][1]
    assert held["status"] == "under_review" and held["review"]["rule"] == "brand-authenticity-review"
    assert held["review"]["reason"] and held["review"]["reason_zh"]
    first, second = trip.tasks(order_id, 2)

    def queued():
        queue = trip.call("orders", "GET", "/screening/holds", "risk_analyst").json()
        return next((h for h in queue if h["order_id"] == order_id), None)

    assert wait_until(what="the held line in the analyst's queue", condition=queued)["line_no"] == 2
    refused = buy(trip, second, expect=409).json()  # purchasing does not buy the held line
    assert "compliance review" in refused["detail"]
    approved = trip.call("orders", "POST", f"/screening/holds/{order_id}/lines/2/decision", "risk_analyst",
                         json={"decision": "approve", "reason": "the shop is an authorised reseller"}).json()
    assert approved["approved"] is True and approved["line_status"] == "active"
    wait_until(what="purchasing to buy the approved line",
               condition=lambda: buy(trip, second, expect=(200, 409)).status_code == 200)
    assert buy(trip, first).status_code == 200

    entries = trip.timeline_until(order_id, "review_decided")
    decided = next(e for e in entries if e["stage"] == "review_decided")
    assert decided["actor"] == "risk team" and decided["details"]["approved"] is True
    assert decided["details"]["rules_version"] == "screening-2026.12"
    assert next(e for e in entries if e["stage"] == "under_review")["name_zh"] == "采购前合规审核中"
    assert trip.order(order_id)["lines"][1]["status"] == "active"

    # Refused by the analyst: the line is cancelled and refunded.
    other = trip.place_and_pay([listing(f"53{suffix:06d}0"), {**belt, "product_url": listing(
        f"53{suffix:06d}1")["product_url"]}])
    wait_until(what="the second held line in the queue", condition=lambda: any(
        h["order_id"] == other["order_id"] for h in trip.call("orders", "GET", "/screening/holds",
                                                              "risk_analyst").json()))
    no = trip.call("orders", "POST", f"/screening/holds/{other['order_id']}/lines/2/decision", "risk_analyst",
                   json={"decision": "refuse", "reason": "not an authorised reseller"}).json()
    assert no["line_status"] == "cancelled" and Decimal(no["refunds"][0]["amount"]) >= Decimal("40.00")
    rules = trip.call("orders", "GET", "/screening/rules", "").json()
    assert "brand-authenticity-review" in rules["hold_for_review"] and "counterfeit-indicator" in rules["refuse"]

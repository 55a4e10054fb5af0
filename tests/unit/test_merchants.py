"""Merchant governance in purchasing: reputation from the log, auto-block rules, the analyst's queue."""

from decimal import Decimal
from uuid import uuid4

import pytest

from contracts.claims import CounterfeitConfirmed
from contracts.orders import OrderConfirmed, OrderPlaced
from contracts.warehouse import ItemInspected, ItemReceived
from services.purchasing.merchant_rules import Reputation, verdict
from tests.unit.test_purchasing_app import agent, purchasing  # noqa: F401 - fixtures

QUOTE = {"currency": "CNY", "lines": [], "total": "99.00", "rules_version": "pricing-2026.11"}
MERCHANT = {"merchant_id": "m-shady", "merchant_name": "Shady Outlet"}


@pytest.fixture
def analyst(purchasing):
    return purchasing.as_("ana", "risk_analyst")


def open_task(purchasing, agent, item_id: str = "6543217890") -> dict:
    order_id = str(uuid4())
    line = {"line_no": 1, "platform": "taobao", "item_id": item_id, "sku": "bag", "quantity": 1,
            "product_url": f"https://item.taobao.com/item.htm?id={item_id}", "unit_price": "99.00"}
    purchasing.react(OrderPlaced(order_id=order_id, customer_id="alice", destination_country="GB", lines=[line],
                                 quote=QUOTE))
    purchasing.react(OrderConfirmed(order_id=order_id))
    (task,) = purchasing.client.get(f"/purchasing/orders/{order_id}/tasks", headers=agent).json()
    return task


def buy(purchasing, agent, task: dict, merchant: dict = MERCHANT):
    return purchasing.client.post(f"/purchasing/tasks/{task['task_id']}/purchase", headers=agent, json={
        "platform_order_no": f"TB{uuid4().hex[:10]}", "amount_paid": "99.00", **merchant,
        "receipt_ref": f"receipt://taobao/{task['task_id']}", "category": "general"})


def receive_and_inspect(purchasing, task: dict, code: str, passed: bool) -> None:
    purchasing.react(ItemReceived(
        traceability_code=code, order_id=task["order_id"], customer_id="alice", line_no=1, task_id=task["task_id"],
        tracking_number="SF1", platform="taobao", item_id=task["item_id"], sku="bag", quantity_expected=1,
        category="general", amount_paid=Decimal("99.00"), platform_order_no="TB1", receipt_ref="receipt://x",
        staff_id="w1", **MERCHANT))
    purchasing.react(ItemInspected(traceability_code=code, order_id=task["order_id"], customer_id="alice",
                                   line_no=1, quantity_checked=1, exterior_condition="intact",
                                   photos=["p1", "p2", "p3"], passed=passed,
                                   issues=[] if passed else ["stitching torn"], staff_id="w1"))


def counterfeit(task: dict) -> CounterfeitConfirmed:
    return CounterfeitConfirmed(order_id=task["order_id"], customer_id="alice", line_no=1,
                                traceability_code="KF-1", platform="taobao", evidence=["photo://logo"],
                                source="inspection", confirmed_by="warehouse_staff:w1",
                                refund_amount=Decimal("99.00"), currency="CNY", **MERCHANT)


def test_a_confirmed_counterfeit_blocks_the_merchant_for_good(purchasing, agent, analyst):
    first = open_task(purchasing, agent, "111")
    assert buy(purchasing, agent, first).status_code == 200
    finding = counterfeit(first)
    purchasing.react(finding)
    assert purchasing.react(finding) == "handled"  # a redelivery under a new id changes nothing

    merchant = purchasing.client.get("/purchasing/merchants/taobao/m-shady", headers=analyst).json()
    assert merchant["status"] == "blocked_permanently"
    assert merchant["reputation"]["counterfeits"] == 1 and merchant["listings"] == ["111"]
    blocked = [e for e in purchasing.published() if e.type == "purchasing.MerchantBlocked"]
    assert len(blocked) == 1
    assert blocked[0].payload["listings"] == ["111"] and blocked[0].payload["rule"] == "counterfeit-zero-tolerance"

    refused = buy(purchasing, agent, open_task(purchasing, agent, "222"))
    assert refused.status_code == 422
    assert "blocked permanently" in refused.json()["detail"] and "counterfeit" in refused.json()["detail"]
    assert "another seller" in refused.json()["detail"]

    lift = purchasing.client.post("/purchasing/merchants/taobao/m-shady/decisions", headers=analyst,
                                  json={"decision": "unblock", "reason": "merchant says sorry"})
    assert lift.status_code == 409


def test_another_merchant_is_still_bought_from(purchasing, agent):
    purchasing.react(counterfeit(open_task(purchasing, agent)))
    fine = buy(purchasing, agent, open_task(purchasing, agent), {"merchant_id": "m-good", "merchant_name": "Good"})
    assert fine.status_code == 200


def test_a_failure_rate_over_the_threshold_waits_for_an_analyst_who_is_honoured(purchasing, agent, analyst):
    tasks = [open_task(purchasing, agent, f"90{n}") for n in range(3)]
    for task in tasks:
        assert buy(purchasing, agent, task).status_code == 200
    receive_and_inspect(purchasing, tasks[0], "KF-A", passed=False)
    receive_and_inspect(purchasing, tasks[1], "KF-B", passed=False)
    queue = purchasing.client.get("/purchasing/merchant-review-queue", headers=analyst).json()
    assert queue == []  # two inspected: too few to judge
    receive_and_inspect(purchasing, tasks[2], "KF-C", passed=True)

    (queued,) = purchasing.client.get("/purchasing/merchant-review-queue", headers=analyst).json()
    assert queued["merchant_id"] == "m-shady" and queued["status"] == "blocked_pending_review"
    assert queued["reputation"]["failure_rate"] == "0.67" and queued["block_rule"] == "qc-failure-rate"
    assert buy(purchasing, agent, open_task(purchasing, agent)).status_code == 422

    no_reason = purchasing.client.post("/purchasing/merchants/taobao/m-shady/decisions", headers=analyst,
                                       json={"decision": "approve", "reason": " "})
    assert no_reason.status_code == 422
    not_an_analyst = purchasing.client.post("/purchasing/merchants/taobao/m-shady/decisions", headers=agent,
                                            json={"decision": "approve", "reason": "fine"})
    assert not_an_analyst.status_code == 403
    approved = purchasing.client.post("/purchasing/merchants/taobao/m-shady/decisions", headers=analyst,
                                      json={"decision": "approve", "reason": "the torn bags were one batch"})
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert approved.json()["decisions"][-1]["decided_by"] == "risk_analyst:ana"
    assert purchasing.client.get("/purchasing/merchant-review-queue", headers=analyst).json() == []
    assert buy(purchasing, agent, open_task(purchasing, agent)).status_code == 200
    unblocked = [e for e in purchasing.published() if e.type == "purchasing.MerchantUnblocked"]
    assert unblocked[0].payload["decision"] == "approved"


def test_an_analyst_blocks_and_unblocks_with_a_reason(purchasing, agent, analyst):
    assert buy(purchasing, agent, open_task(purchasing, agent)).status_code == 200
    url = "/purchasing/merchants/taobao/m-shady/decisions"
    blocked = purchasing.client.post(url, headers=analyst, json={"decision": "block", "reason": "fake reviews"})
    assert blocked.json()["status"] == "blocked"
    refused = buy(purchasing, agent, open_task(purchasing, agent))
    assert refused.status_code == 422 and "fake reviews" in refused.json()["detail"]
    listed = purchasing.client.get("/purchasing/merchants?status=blocked", headers=analyst).json()
    assert [m["merchant_id"] for m in listed] == ["m-shady"]
    lifted = purchasing.client.post(url, headers=analyst, json={"decision": "unblock", "reason": "reviews checked"})
    assert lifted.json()["status"] == "active"
    assert purchasing.client.get("/purchasing/merchants/taobao/nobody", headers=analyst).status_code == 404


@pytest.mark.parametrize("reputation, expected", [
    (Reputation(purchases=1, inspected=0, failed=0, counterfeits=1), "counterfeit-zero-tolerance"),
    (Reputation(purchases=10, inspected=10, failed=3, counterfeits=0), None),  # 30% is not over 30%
    (Reputation(purchases=10, inspected=10, failed=4, counterfeits=0), "qc-failure-rate"),
    (Reputation(purchases=2, inspected=2, failed=2, counterfeits=0), None),  # too few to judge
])
def test_the_rules(reputation, expected):
    found = verdict(reputation)
    assert (found.rule if found else None) == expected


def test_an_approval_stands_until_new_failures():
    reputation = Reputation(purchases=3, inspected=3, failed=2, counterfeits=0)
    assert verdict(reputation, failures_already_reviewed=2) is None
    assert verdict(Reputation(purchases=4, inspected=4, failed=3, counterfeits=0), 2).rule == "qc-failure-rate"


def test_claims_about_its_items_count_in_the_reputation(purchasing, agent, analyst):
    from contracts.claims import ClaimOpened

    task = open_task(purchasing, agent)
    assert buy(purchasing, agent, task).status_code == 200
    receive_and_inspect(purchasing, task, "KF-CLAIMED", passed=True)
    claim = ClaimOpened(claim_id=uuid4(), parcel_id=uuid4(), customer_id="alice", order_ids=[task["order_id"]],
                        kind="damaged", traceability_code="KF-CLAIMED", description="cracked", photos=["p://1"])
    purchasing.react(claim)
    purchasing.react(claim)  # redelivered under a new id: counted once
    merchant = purchasing.client.get("/purchasing/merchants/taobao/m-shady", headers=analyst).json()
    assert merchant["reputation"]["claims"] == 1 and merchant["status"] == "active"

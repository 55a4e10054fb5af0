"""Merchant reputation beyond QC: late domestic shipments (purchase → the merchant's shipment later
than the published hours) and claims and returns about its items, each with a versioned rule that
blocks the merchant pending an analyst's review, and an approval that stands until new cases."""

from datetime import datetime, timezone
from uuid import uuid4

import pytest

from contracts.claims import ClaimOpened, ReturnDecided
from service_runtime.clock import ManualClock
from services.purchasing.merchant_rules import (
    LATE_SHIPMENT_AFTER_HOURS,
    RULE_BOOK,
    Reputation,
    Reviewed,
    is_late,
    published_rules,
    verdict,
)
from tests.unit.test_merchants import buy, open_task, receive_and_inspect
from tests.unit.test_purchasing_app import agent, purchasing  # noqa: F401 - fixtures

MERCHANT_URL = "/purchasing/merchants/taobao/m-shady"
START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clocked(purchasing):
    purchasing.app.clock = ManualClock(START)
    return purchasing


@pytest.fixture
def analyst(purchasing):
    return purchasing.as_("ana", "risk_analyst")


def bought_and_shipped(purchasing, agent, item_id: str, hours: float) -> dict:
    task = open_task(purchasing, agent, item_id)
    assert buy(purchasing, agent, task).status_code == 200
    purchasing.app.clock.advance(hours=hours)
    shipped = purchasing.client.post(f"/purchasing/tasks/{task['task_id']}/domestic-shipment", headers=agent,
                                     json={"carrier": "SF Express", "tracking_number": f"SF{item_id}"})
    assert shipped.status_code == 200, shipped.text
    return task


@pytest.mark.parametrize("reputation, reviewed, expected", [
    (Reputation(purchases=3, inspected=0, failed=0, counterfeits=0, shipped=3, late_shipments=1), None, None),
    (Reputation(purchases=3, inspected=0, failed=0, counterfeits=0, shipped=3, late_shipments=2), None,
     "late-domestic-shipments"),
    (Reputation(purchases=2, inspected=0, failed=0, counterfeits=0, shipped=2, late_shipments=2), None, None),
    (Reputation(purchases=3, inspected=0, failed=0, counterfeits=0, shipped=3, late_shipments=2),
     Reviewed(late_shipments=2), None),  # the analyst saw these two
    (Reputation(purchases=4, inspected=0, failed=0, counterfeits=0, claims=1, returns=1), None, "after-sales-rate"),
    (Reputation(purchases=4, inspected=0, failed=0, counterfeits=0, claims=1), None, None),  # 25%
    (Reputation(purchases=4, inspected=0, failed=0, counterfeits=0, claims=1, returns=1),
     Reviewed(after_sales=2), None),
])
def test_the_late_shipment_and_after_sales_rules(reputation, reviewed, expected):
    found = verdict(reputation, reviewed=reviewed)
    assert (found.rule if found else None) == expected


def test_the_older_rule_version_knows_only_qc_and_counterfeits():
    late = Reputation(purchases=3, inspected=0, failed=0, counterfeits=0, shipped=3, late_shipments=3)
    assert verdict(late, version="merchant-rules-2026.11") is None
    assert "late_shipment_after_hours" in RULE_BOOK["merchant-rules-2026.12"]
    assert is_late(LATE_SHIPMENT_AFTER_HOURS + 1) and not is_late(LATE_SHIPMENT_AFTER_HOURS)
    assert published_rules()["late_shipment_after_hours"] == LATE_SHIPMENT_AFTER_HOURS


def test_late_domestic_shipments_block_the_merchant_pending_review(clocked, agent, analyst):
    bought_and_shipped(clocked, agent, "301", hours=10)
    bought_and_shipped(clocked, agent, "302", hours=LATE_SHIPMENT_AFTER_HOURS + 20)
    merchant = clocked.client.get(MERCHANT_URL, headers=analyst).json()
    assert merchant["reputation"]["shipped"] == 2 and merchant["reputation"]["late_shipments"] == 1
    assert merchant["status"] == "active"  # two shipments: too few to judge
    bought_and_shipped(clocked, agent, "303", hours=LATE_SHIPMENT_AFTER_HOURS + 1)

    (queued,) = clocked.client.get("/purchasing/merchant-review-queue", headers=analyst).json()
    assert queued["block_rule"] == "late-domestic-shipments" and queued["reputation"]["late_rate"] == "0.67"
    assert "48 hours" in queued["block_reason"] and "merchant-rules-2026.12" in queued["block_reason"]
    refused = buy(clocked, agent, open_task(clocked, agent, "304"))
    assert refused.status_code == 422 and "pending review" in refused.json()["detail"]
    blocked = [e.payload for e in clocked.published() if e.type == "purchasing.MerchantBlocked"]
    assert blocked[-1]["rule"] == "late-domestic-shipments" and blocked[-1]["rules_version"] == "merchant-rules-2026.12"

    approved = clocked.client.post(f"{MERCHANT_URL}/decisions", headers=analyst,
                                   json={"decision": "approve", "reason": "Singles' Day backlog"})
    assert approved.json()["status"] == "active"
    bought_and_shipped(clocked, agent, "305", hours=1)  # on time: the approval stands
    assert clocked.client.get(MERCHANT_URL, headers=analyst).json()["status"] == "active"
    bought_and_shipped(clocked, agent, "306", hours=LATE_SHIPMENT_AFTER_HOURS * 2)  # a new late one
    assert clocked.client.get(MERCHANT_URL, headers=analyst).json()["block_rule"] == "late-domestic-shipments"


def test_claims_and_returns_about_its_items_block_the_merchant_pending_review(clocked, agent, analyst):
    tasks = [bought_and_shipped(clocked, agent, f"40{n}", hours=1) for n in range(4)]
    for n, task in enumerate(tasks[:2]):
        receive_and_inspect(clocked, task, f"KF-R{n}", passed=True)
    claim = ClaimOpened(claim_id=uuid4(), parcel_id=uuid4(), customer_id="alice", order_ids=[tasks[0]["order_id"]],
                        kind="wrong_item", traceability_code="KF-R0", description="a red bag, not blue",
                        photos=["p://1"])
    clocked.react(claim)
    assert clocked.client.get(MERCHANT_URL, headers=analyst).json()["status"] == "active"  # 1 of 4
    refused_return = dict(return_id=uuid4(), order_id=tasks[1]["order_id"], customer_id="alice", line_no=1,
                          traceability_code="KF-R1", kind="return", reason="changed my mind", product_type="bag",
                          approved=False, rule="return-window", rules_version="returns-2026.12",
                          explanation_en="", explanation_zh="")
    clocked.react(ReturnDecided(**refused_return))
    assert clocked.client.get(MERCHANT_URL, headers=analyst).json()["reputation"]["returns"] == 0
    approved_return = ReturnDecided(**{**refused_return, "return_id": uuid4(), "approved": True,
                                       "reason": "seams split"})
    clocked.react(approved_return)
    clocked.react(approved_return)  # redelivered: counted once

    merchant = clocked.client.get(MERCHANT_URL, headers=analyst).json()
    assert merchant["reputation"]["claims"] == 1 and merchant["reputation"]["returns"] == 1
    assert merchant["reputation"]["after_sales_rate"] == "0.50"
    assert merchant["status"] == "blocked_pending_review" and merchant["block_rule"] == "after-sales-rate"

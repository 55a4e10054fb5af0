"""After-sales end to end, on Kafka + PostgreSQL and on the embedded default: a dispute that
changes a decision (a second-level reviewer raises the payout and only the difference is paid),
with both decisions on the timeline, in the compensation decisions projection and in the ledger;
an item sent back from abroad, refunded after the warehouse received and inspected it; satisfaction surveys offered after receipt, a decision and a closed ticket, answered once; and
the projections rebuilt from offset 0 equal to the live ones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest

from kongfu.demo import Lifecycle
from kongfu.local import wait_until
from services.claims.compensation import evaluate
from services.logistics.carriers import FakeCarrier
from tests.support import CARRIER_SECRET, ROOT, auth, token


@pytest.fixture(params=["platform_on_stack", "embedded"])
def platform(request):
    return request.getfixturevalue(request.param)


def journey(platform: dict) -> Lifecycle:
    return Lifecycle(platform, lambda subject, role: token(subject, role), FakeCarrier(CARRIER_SECRET).webhook)


def ledger_of(platform: dict, customer: str) -> dict:
    return httpx.get(f"{platform['payments']}/me/ledger", headers=auth(customer, "customer"), timeout=30).json()


def checksums_match(platform: dict, service: str, name: str) -> None:
    def live() -> str:
        return httpx.get(f"{platform[service]}/admin/projections/{name}/checksum",
                         headers=auth("audit-1", "auditor"), timeout=30).json()["checksum"]

    settled = wait_until(lambda: (first := live()) == live() and first, what=f"{name} to settle")
    out = subprocess.run([sys.executable, "-m", "kongfu.cli", "replay", name], env={**os.environ, **platform["env"]},
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert re.search(r"checksum ([0-9a-f]{64})", out.stdout).group(1) == settled == live()


def test_a_dispute_raises_the_payout_and_only_the_difference_is_paid(platform):
    trip = journey(platform)
    result = trip.full_journey()  # the vase arrived cracked: 268.00 decided by support-agent-1
    claim_id, order_id = result["claim"]["claim_id"], result["order_id"]
    claims = platform["claims"]
    wait_until(lambda: [m["amount"] for m in ledger_of(platform, trip.customer)["movements"]
                        if m["kind"] == "compensation"] == ["268.00"], what="the first decision credited")

    trip.as_customer("claims", "POST", f"/claims/{claim_id}/dispute",
                     json={"reason": "The vase cost 300.00: the merchant's receipt is attached."})
    outcome = {"approved": True, "notes": "the receipt shows 300.00", "corrected_facts": {"item_value": "300.00"}}
    plain_agent = httpx.post(f"{claims}/claims/{claim_id}/dispute/outcome", json=outcome,
                             headers=auth("support-agent-2", "support_agent"))
    assert plain_agent.status_code == 403 and "claims_reviewer" in plain_agent.json()["detail"]
    first_decider = httpx.post(f"{claims}/claims/{claim_id}/dispute/outcome", json=outcome,
                               headers=auth("support-agent-1", "claims_reviewer"))
    assert first_decider.status_code == 403 and "decided first" in first_decider.json()["detail"]
    reviewed = httpx.post(f"{claims}/claims/{claim_id}/dispute/outcome", json=outcome,
                          headers=auth("reviewer-1", "claims_reviewer"))
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["dispute"]["outcome"] == "changed" and reviewed.json()["paid"] == "300.00"

    # The ledger: the first decision and the difference, each once, with their rule versions.
    ledger = wait_until(lambda: (page := ledger_of(platform, trip.customer)) and len(
        [m for m in page["movements"] if m["kind"] == "compensation"]) == 2 and page, what="the difference credited")
    credits = [m for m in ledger["movements"] if m["kind"] == "compensation"]
    assert [m["amount"] for m in credits] == ["268.00", "32.00"] and all(m["rule_version"] for m in credits)
    assert Decimal(ledger["balance"]) == Decimal("300.00")

    # The projection: both decisions, numbered, each re-evaluating to its amount under its version.
    view = wait_until(lambda: (v := httpx.get(f"{claims}/compensation-decisions/{claim_id}",
                                              headers=auth("audit-1", "auditor")).json())["adjustments"] and v,
                      what="the changed decision in the projection")
    assert (view["decision"]["decision_no"], view["decision"]["amount"]) == (1, "268.00")
    [raised] = view["adjustments"]
    assert (raised["decision_no"], raised["amount"], raised["decided_by"]) == (2, "32.00", "reviewer-1")
    assert raised["inputs"]["item_value"] == "300.00" and raised["inputs"]["already_paid"] == "268.00"
    for decision in (view["decision"], raised):
        assert str(evaluate(decision["rule_version"], decision["inputs"]).amount) == decision["amount"]
    assert view["dispute"]["outcome"]["outcome"] == "changed"
    mine = httpx.get(f"{claims}/compensation-decisions/{claim_id}", headers=auth(trip.customer, "customer")).json()
    assert "decided_by" not in mine["adjustments"][0] and "reviewer" not in mine["dispute"]["outcome"]

    # The timeline: both decisions and the dispute, the reviewer shown as a team to the customer.
    timeline = trip.timeline_until(order_id, "dispute_resolved")
    wait_until(lambda: [e["stage"] for e in trip.timeline(order_id)].count("claim_decided") == 2,
               what="both decisions on the timeline")
    timeline = trip.timeline(order_id)
    decided = [e for e in timeline if e["stage"] == "claim_decided"]
    assert [e["details"]["amount"] for e in decided] == ["268.00", "32.00"]
    resolved = next(e for e in timeline if e["stage"] == "dispute_resolved")
    assert resolved["actor"] == "claims review team" and resolved["details"]["outcome"] == "changed"

    # The shirts go back from abroad: shipped with a tracking number, refunded only once our
    # warehouse has received and inspected them, less the published share for their condition.
    shirts = result["codes"][1]
    asked = trip.as_customer("claims", "POST", "/returns/abroad", json={
        "parcel_id": result["parcel_id"], "traceability_code": shirts, "reason": "changed_mind"}).json()
    assert asked["approved"] and asked["return_shipping_paid_by"] == "customer"
    return_id = asked["return_id"]
    trip.as_customer("claims", "POST", f"/returns/abroad/{return_id}/shipment",
                     json={"carrier": "Royal Mail", "tracking_number": "RM123456789GB", "postage": "45.00"})
    trip.call("claims", "POST", f"/returns/abroad/{return_id}/receipt", "warehouse_staff")
    assert not [m for m in ledger_of(platform, trip.customer)["movements"] if m["amount"] == "82.60"]
    inspected = trip.call("claims", "POST", f"/returns/abroad/{return_id}/inspection", "warehouse_staff",
                          json={"condition": "used", "notes": "worn once, tags cut"}).json()
    assert inspected["refund"]["amount"] == "82.60"  # 118.00 less 30% for its condition
    wait_until(lambda: "82.60" in [m["amount"] for m in ledger_of(platform, trip.customer)["movements"]],
               what="the return's refund credited")
    assert trip.as_customer("claims", "GET", f"/returns/abroad/{return_id}").json()["status"] == "refunded"
    assert httpx.get(f"{claims}/returns/abroad/{return_id}", headers=auth("mallory", "customer")).status_code == 404
    stages = [e["stage"] for e in trip.timeline_until(order_id, "abroad_return_inspected")]
    assert [s for s in stages if s.startswith("abroad_return")] == [
        "abroad_return_decided", "abroad_return_shipped", "abroad_return_received", "abroad_return_inspected"]

    # Surveys: offered after receipt, after the claim's decision and after a ticket closes; each
    # answered once, then gone from the customer's list; staff see the averages.
    ticket = trip.as_customer("claims", "POST", "/tickets", json={
        "topic": "question", "subject": "How do I send the broken vase back?", "order_id": order_id}).json()
    trip.call("claims", "POST", f"/tickets/{ticket['ticket_id']}/answers", "support_agent",
              json={"answer": "No need: keep it, the compensation covers it."})
    trip.as_customer("claims", "POST", f"/tickets/{ticket['ticket_id']}/close")

    def open_surveys():
        return trip.as_customer("claims", "GET", "/me/surveys").json()

    surveys = wait_until(lambda: len(s := open_surveys()) == 3 and s, what="three surveys offered")
    assert sorted(s["about"] for s in surveys) == ["claim", "receipt", "ticket"]
    assert all("handled_by" not in s for s in surveys)
    assert httpx.get(f"{claims}/me/surveys", headers=auth("mallory", "customer")).json() == []
    for survey, rating in zip(sorted(surveys, key=lambda s: s["about"]), (3, 5, 4)):
        trip.as_customer("claims", "POST", "/satisfaction", json={
            "about": survey["about"], "subject_id": survey["subject_id"], "rating": rating, "comment": "thanks"})
    assert trip.as_customer("claims", "POST", "/satisfaction", expect=409, json={
        "about": "claim", "subject_id": claim_id, "rating": 1}).status_code == 409  # answered once
    wait_until(lambda: open_surveys() == [], what="the answered surveys closed")
    summary = httpx.get(f"{claims}/satisfaction/summary", headers=auth("audit-1", "auditor")).json()
    assert summary["by_about"]["claim"] == {"answered": 1, "average": "3.00"}
    # The claim's first decider also answered the ticket; the parcel's line carries receipt and claim.
    assert summary["by_agent"]["support-agent-1"] == {"answered": 2, "average": "3.50"}
    assert list(summary["by_line"].values()) == [{"answered": 2, "average": "4.00"}]

    # Redelivered or replayed, nothing is paid twice: the projections rebuilt equal the live ones.
    checksums_match(platform, "claims", "satisfaction_surveys")
    checksums_match(platform, "claims", "compensation_decisions")
    checksums_match(platform, "payments", "ledger")
    assert [m["amount"] for m in ledger_of(platform, trip.customer)["movements"]
            if m["kind"] == "compensation"] == ["268.00", "32.00", "82.60"]

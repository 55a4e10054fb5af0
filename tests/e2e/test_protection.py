"""Protection and after-sales end to end, on Kafka + PostgreSQL and on the embedded default.

Simulated days pass through the clock offset file every process reads (never a sleep for the
deadlines themselves): an insured parcel goes silent for 11 days and is compensated as lost; an
uninsured one is seized by customs and paid the route-standard share; an order left unpurchased
for a day gets its service fee back; an unanswered ticket is escalated exactly once although the
claims process is down when its deadline passes and is restarted twice. Then the compensation
decisions projection is rebuilt from offset 0 and every decision re-evaluated under its version.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from kongfu.demo import Lifecycle
from kongfu.local import SERVICES, ServiceProcess, start_platform, wait_until
from services.claims.compensation import evaluate
from services.logistics.carriers import FakeCarrier
from tests.support import CARRIER_SECRET, ROOT, auth, listen_to, stack_env, start_fake_stripe, stripe_env, token

DAY = 86400


class Platform:
    """The platform under test, with the clock file and a way to restart the claims process."""

    def __init__(self, urls: dict[str, str], env: dict[str, str], clock_file: Path,
                 claims_process: ServiceProcess, processes: list[ServiceProcess]) -> None:
        self.urls, self.env, self.clock_file = urls, env, clock_file
        self.claims_process, self.processes = claims_process, processes

    def advance_days(self, days: float) -> None:
        current = float(self.clock_file.read_text() or 0) if self.clock_file.exists() else 0.0
        self.clock_file.write_text(str(current + days * DAY))

    def restart_claims(self, while_down=lambda: None) -> None:
        self.claims_process.stop()
        while_down()
        self.claims_process.start()


@pytest.fixture(scope="module", params=["stack", "embedded"])
def platform(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"protection-{request.param}")
    clock_file = base / "clock-offset"
    fake_stripe = start_fake_stripe()
    if request.param == "stack":
        request.getfixturevalue("stack")
        env = {**stack_env(f"t{uuid.uuid4().hex[:10]}", base / "var"), **stripe_env(fake_stripe),
               "KONGFU_CLOCK_OFFSET_FILE": str(clock_file)}
        urls, processes = start_platform(["--mode", "stack"], env, base)
        claims = processes[[p.args[1] for p in processes].index("claims")]
    else:
        secrets = stack_env("", base)
        env = {"KONGFU_VAR_DIR": str(base / "var"), "KONGFU_JWT_SECRET": secrets["KONGFU_JWT_SECRET"],
               "KONGFU_CARRIER_WEBHOOK_SECRET": secrets["KONGFU_CARRIER_WEBHOOK_SECRET"],
               "KONGFU_CLOCK_OFFSET_FILE": str(clock_file), **stripe_env(fake_stripe)}
        claims = ServiceProcess(["run"], env, base / "embedded.log").start()
        processes = [claims]
        urls = {s: claims.url for s in SERVICES}
        env = {**env, "KONGFU_MODE": "embedded"}
    listen_to(fake_stripe, urls["payments"])
    yield Platform(urls, env, clock_file, claims, processes)
    for process in processes:
        process.stop()
    fake_stripe.stop()


def journey(platform: Platform) -> Lifecycle:
    return Lifecycle(platform.urls, lambda subject, role: token(subject, role), FakeCarrier(CARRIER_SECRET).webhook)


def parcel_on_its_way(trip: Lifecycle, insured: bool, paid: str = "300.00") -> dict:
    """One item bought, received, stored, packed and handed to the carrier (insured or not)."""
    order = trip.place_and_pay([{"product_url": "https://item.taobao.com/item.htm?id=6543217890",
                                 "sku": "celadon teapot", "quantity": 1, "unit_price": paid}])
    [task] = trip.tasks(order["order_id"], 1)
    code = trip.receive(order["order_id"], trip.purchase_and_ship(task, "general", paid), 1)
    trip.inspect_and_store(code, 1, high_risk=False)
    parcel_id = trip.consolidate_and_pack([code])
    line = next(l for l in trip.quotes(parcel_id) if l["code"] == "economy-air" and not l.get("refused"))
    cover = trip.as_customer("logistics", "POST", f"/logistics/parcels/{parcel_id}/insurance",
                             json={"insured": insured}).json()  # before the line: the premium is on its bill
    bill = trip.choose_and_pay_shipping(parcel_id, line)
    assert [l["code"] for l in bill["lines"]] == ["shipping", *(["insurance_premium"] if insured else [])]
    trip.call("logistics", "POST", f"/logistics/parcels/{parcel_id}/customs-declaration", "logistics_staff",
              json={"items": [{"traceability_code": code, "hs_code": "691390", "description": "ceramic teapot",
                               "declared_value": "40.00", "currency": "USD"}]})
    tracking = f"KF{uuid.uuid4().int % 10**10:010d}GB"
    trip.call("logistics", "POST", f"/logistics/parcels/{parcel_id}/handover", "logistics_staff",
              json={"carrier": "fake-express", "tracking_number": tracking})
    trip.carrier_update(tracking, "in_transit")
    return {"order_id": order["order_id"], "parcel_id": parcel_id, "tracking": tracking, "cover": cover,
            "chargeable_kg": line["chargeable_weight_kg"], "freight": line["price"]}


def decisions(platform: Platform) -> list[dict]:
    return httpx.get(f"{platform.urls['claims']}/compensation-decisions", headers=auth("audit-1", "auditor"),
                     timeout=30).json()


def decision_for(platform: Platform, kind: str, parcel_or_order: str) -> dict:
    def found():
        return next((d for d in decisions(platform) if d["kind"] == kind and d["decision"]
                     and parcel_or_order in (d["parcel_id"], *[str(o) for o in d.get("order_ids") or []])), None)

    return wait_until(found, timeout=120, what=f"a {kind} decision for {parcel_or_order}")


def stages(trip: Lifecycle, order_id: str) -> list[str]:
    return [entry["stage"] for entry in trip.timeline(order_id)]


def test_protection_end_to_end(platform):
    trip = journey(platform)
    lost = parcel_on_its_way(trip, insured=True)
    seized = parcel_on_its_way(trip, insured=False)
    # Insurance: 3% of the declared 300.00, and the choice is on the timeline.
    assert (lost["cover"]["premium"], seized["cover"]["premium"]) == ("9.00", "0.00")

    # A customs seizure of the uninsured parcel: the route standard's published share, automatically.
    headers, body = FakeCarrier(CARRIER_SECRET).webhook(seized["tracking"], "exception", f"evt-{uuid.uuid4().hex}",
                                                        "Felixstowe customs", incident="seized")
    trip.call("logistics", "POST", "/logistics/carrier-webhooks/fake-express", "", content=body,
              headers={**headers, "content-type": "application/json"})
    seizure = decision_for(platform, "seized", seized["parcel_id"])
    expected = min(Decimal("40.00") * Decimal(seized["chargeable_kg"]), Decimal("400.00")) * Decimal("0.50")
    assert Decimal(seizure["decision"]["amount"]) == expected.quantize(Decimal("0.01"))
    assert seizure["decision"]["rule"] == "seized_route_standard" and seizure["origin"] == "automatic"
    # The customer contests it once; a second-level reviewer upholds it, and says why.
    trip.as_customer("claims", "POST", f"/claims/{seizure['claim_id']}/dispute",
                     json={"reason": "The goods were declared correctly."})
    trip.call("claims", "POST", f"/claims/{seizure['claim_id']}/dispute/outcome", "claims_reviewer",
              json={"approved": True, "notes": "customs seizure confirmed; the published share applies"})
    trip.timeline_until(seized["order_id"], "dispute_resolved")

    # A counterfeit found at inspection: confirmed naming the merchant, refunded in full (price and
    # service fee), never shipped, and the customer is not asked to choose a refund of their own.
    forger = journey(platform)  # a shop of its own: after this it is blocked for good
    fake = forger.place_and_pay([{"product_url": "https://item.taobao.com/item.htm?id=7000000001",
                                  "sku": "designer bag", "quantity": 1, "unit_price": "150.00"}])
    [task] = forger.tasks(fake["order_id"], 1)
    fake_code = forger.receive(fake["order_id"], forger.purchase_and_ship(task, "general", "150.00"), 1)
    forger.call("warehouse", "POST", f"/warehouse/items/{fake_code}/inspection", "warehouse_staff", json={
        "quantity_checked": 1, "exterior_condition": "intact", "counterfeit": True,
        "photos": [f"photo://{fake_code}/{n}" for n in range(1, 4)], "notes": "no hologram, misspelt logo"})
    confirmed = next(e for e in forger.timeline_until(fake["order_id"], "counterfeit_confirmed")
                     if e["stage"] == "counterfeit_confirmed")
    fake_fee = next(l["amount"] for l in fake["quote"]["lines"] if l["code"] == "service_fee")
    assert Decimal(confirmed["details"]["refund_amount"]) == Decimal("150.00") + Decimal(fake_fee)
    assert confirmed["details"]["merchant_name"] == "Hangzhou Good Goods Store"
    assert forger.order(fake["order_id"])["pending_decisions"] == []
    assert forger.call("warehouse", "POST", f"/warehouse/items/{fake_code}/storage", "warehouse_staff",
                       json={"location": "A-09-001"}, expect=409)

    # Returns by product type: one line exchanged (purchasing buys it again), one returned to the
    # merchant inside its window and refunded less postage, one refused for its product type.
    kept = trip.place_and_pay([{"product_url": "https://item.taobao.com/item.htm?id=7000000002", "sku": "scarf",
                                "quantity": 1, "unit_price": "80.00"},
                               {"product_url": "https://item.taobao.com/item.htm?id=7000000003", "sku": "socks",
                                "quantity": 1, "unit_price": "30.00"},
                               {"product_url": "https://item.taobao.com/item.htm?id=7000000004", "sku": "kettle",
                                "quantity": 1, "unit_price": "90.00"}])
    for task in trip.tasks(kept["order_id"], 3):
        trip.receive(kept["order_id"], trip.purchase_and_ship(task, "general", "80.00"), task["line_no"])

    def ask(line_no, kind, reason, product_type="general"):
        return wait_until(lambda: (lambda r: r.json() if r.status_code == 201 else None)(trip.as_customer(
            "claims", "POST", "/returns", expect=(201, 409), json={
                "order_id": kept["order_id"], "line_no": line_no, "kind": kind, "reason": reason,
                "product_type": product_type})), timeout=120, what=f"claims to know line {line_no} arrived")

    assert ask(1, "exchange", "faulty")["approved"] is True
    assert len(trip.tasks(kept["order_id"], 4)) == 4  # a new purchase of line 1
    refused = ask(2, "return", "changed_mind", "underwear")
    assert (refused["approved"], refused["rule"]) == (False, "excluded_underwear")
    returned = ask(3, "return", "changed_mind")
    trip.call("claims", "POST", f"/returns/{returned['return_id']}/shipment", "purchasing_agent",
              json={"carrier": "SF Express", "tracking_number": "SF990001"})
    trip.call("claims", "POST", f"/returns/{returned['return_id']}/merchant-refund", "purchasing_agent",
              json={"amount": "80.00"})
    assert decision_for(platform, "return_refund", kept["order_id"])["decision"]["amount"] == "68.00"

    # An order paid but never purchased, and a ticket nobody answers.
    unpurchased = trip.place_and_pay([{"product_url": "https://item.jd.com/100012043978.html", "sku": "tea set",
                                       "quantity": 1, "unit_price": "120.00"}])
    ticket = trip.as_customer("claims", "POST", "/tickets", json={
        "topic": "shipping_anomaly", "subject": "My parcel has not moved for days", "order_id": lost["order_id"]})
    ticket = ticket.json()
    wait_until(lambda: ticket["ticket_id"] in [t["ticket_id"] for t in trip.call(
        "claims", "GET", "/support/queue", "support_agent").json()], timeout=120, what="the ticket in the queue")

    # The claims process is down while 11 days pass; its deadlines fire once it is back.
    platform.restart_claims(while_down=lambda: platform.advance_days(11))
    loss = decision_for(platform, "lost", lost["parcel_id"])
    assert Decimal(loss["decision"]["amount"]) == Decimal("300.00") + Decimal(lost["freight"])  # insured + freight
    assert loss["decision"]["rule"] == "lost_insured_value_plus_freight"
    assert re.search(r"[\u4e00-\u9fff]", loss["decision"]["explanation_zh"]) and loss["decision"]["explanation_en"]
    fee_back = decision_for(platform, "purchase_late", unpurchased["order_id"])
    service_fee = next(l["amount"] for l in unpurchased["quote"]["lines"] if l["code"] == "service_fee")
    assert fee_back["decision"]["amount"] == service_fee and fee_back["parcel_id"] is None
    wait_until(lambda: trip.as_customer("claims", "GET", f"/tickets/{ticket['ticket_id']}").json()["escalated_at"],
               timeout=120, what="the ticket to be escalated")

    # Restarted once more: nothing fires twice.
    platform.restart_claims()
    timeline = trip.timeline_until(lost["order_id"], "ticket_escalated")
    wait_until(lambda: stages(trip, unpurchased["order_id"]).count("claim_decided") == 1, timeout=120,
               what="the service-fee credit on the unpurchased order's timeline")
    assert [e["stage"] for e in timeline].count("ticket_escalated") == 1
    assert "shipping_insurance" in stages(trip, lost["order_id"])
    assert stages(trip, seized["order_id"]).count("claim_decided") == 1
    assert "carrier_incident" in stages(trip, seized["order_id"])
    kinds = [d["kind"] for d in decisions(platform) if d["decision"]]
    assert sorted(kinds) == ["lost", "purchase_late", "return_refund", "seized"]
    wait_until(lambda: trip.call("claims", "GET", "/support/queue", "support_agent").json()[0]["escalated_at"],
               timeout=120, what="the queue to show the escalation")

    # Replay: every recorded decision re-evaluates to its amount under its rule version, and the
    # compensation decisions projection rebuilt from offset 0 equals the live one.
    for decided in decisions(platform):
        for decision in [decided["decision"], *decided["adjustments"]]:
            again = evaluate(decision["rule_version"], decision["inputs"])
            assert str(again.amount) == decision["amount"] and again.rule == decision["rule"]
    live = httpx.get(f"{platform.urls['claims']}/admin/projections/compensation_decisions/checksum",
                     headers=auth("audit-1", "auditor")).json()["checksum"]
    out = subprocess.run([sys.executable, "-m", "kongfu.cli", "replay", "compensation_decisions"],
                         env={**os.environ, **platform.env}, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert re.search(r"checksum ([0-9a-f]{64})", out.stdout).group(1) == live

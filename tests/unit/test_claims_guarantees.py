"""Claims on the international leg and the guarantees that compensate by themselves, in process:
carrier incidents, lost parcels detected by durable timers, deadlines, the 24-hour purchase
promise. Simulated days pass on a ManualClock; nothing sleeps."""

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from contracts.logistics import CarrierIncidentReported, InsuranceChosen, ParcelShipped
from contracts.orders import OrderLineV1, OrderPlaced, PaymentRecorded, QuoteLineV1, QuoteV1
from contracts.purchasing import ItemPurchased
from service_runtime.clock import ManualClock
from service_runtime.timers import TimerScheduler
from services.claims.compensation import evaluate
from services.claims.projections import COMPENSATION_DECISIONS
from tests.unit.test_claims_app import ORDER, PARCEL, claim_body, open_claim, packed, shipping_chosen, \
    tracking
from services.claims.bootstrap import bootstrap
from tests.apptest import ServiceHarness


@pytest.fixture
def claims(tmp_path):
    harness = ServiceHarness(bootstrap, tmp_path)
    harness.clock = harness.app.clock = ManualClock(datetime.now(timezone.utc))
    harness.scheduler = TimerScheduler(harness.app, harness.parts.timers, harness.clock, service="claims")
    return harness


def shipped():
    return ParcelShipped(parcel_id=PARCEL, order_ids=[ORDER], traceability_codes=["KF-20261101-0001"],
                         line_code="economy-air", carrier="fake-express", tracking_number="FX123", staff_id="ops-1")


def insurance(insured=True, declared="386.00"):
    return InsuranceChosen(parcel_id=PARCEL, customer_id="alice", order_ids=[ORDER], insured=insured,
                           declared_value=Decimal(declared), premium=Decimal("11.58") if insured else Decimal("0"),
                           currency="CNY", rules_version="insurance-2026.12")


def incident(kind):
    return CarrierIncidentReported(parcel_id=PARCEL, order_ids=[ORDER], incident=kind, carrier="fake-express",
                                   carrier_event_id=f"evt-{kind}", location="Felixstowe customs",
                                   carrier_time=datetime.now(timezone.utc))


def on_the_way(claims, insured):
    line = shipping_chosen().model_copy(update={"line_code": "economy-air"})
    for event in (packed(), line, insurance(insured), shipped()):
        claims.react(event)


def decisions(claims):
    return [e.payload for e in claims.published() if e.type == "claims.CompensationDecided"]


def test_a_parcel_silent_for_ten_days_is_lost_and_an_insured_one_pays_its_value_plus_freight(claims):
    on_the_way(claims, insured=True)
    claims.clock.advance(days=9, hours=23)
    assert claims.scheduler.fire_due() == 0 and decisions(claims) == []
    claims.clock.advance(hours=2)
    assert claims.scheduler.fire_due() == 1
    [decided] = decisions(claims)
    assert decided["kind"] == "lost" and decided["approved"] and decided["decided_by"] == "system:claims"
    assert decided["amount"] == "481.00"  # insured 386.00 + freight 95.00
    assert decided["rule"] == "lost_insured_value_plus_freight" and "481.00" in decided["explanation_zh"]
    assert claims.scheduler.fire_due() == 0 and len(decisions(claims)) == 1


def test_a_carrier_scan_moves_the_silence_deadline(claims):
    on_the_way(claims, insured=False)
    claims.clock.advance(days=8)
    scan = tracking("in_transit", "evt-scan-day-8")
    claims.react(scan.model_copy(update={"carrier_time": claims.clock.now()}))
    claims.clock.advance(days=5)  # 13 days after dispatch, 5 after the last scan
    assert claims.scheduler.fire_due() == 0 and decisions(claims) == []


def test_an_uninsured_customs_seizure_pays_the_route_standard_share(claims):
    on_the_way(claims, insured=False)
    assert claims.react(incident("seized")) == "handled"
    [decided] = decisions(claims)
    # economy-air: 40.00 per kg × 2.5 kg = 100.00, seizure share 50%
    assert (decided["kind"], decided["amount"], decided["rule"]) == ("seized", "50.00", "seized_route_standard")
    assert decided["inputs"]["line_code"] == "economy-air" and decided["inputs"]["insured"] == "false"
    claims.react(incident("lost"))  # a later report adds nothing
    claims.clock.advance(days=61)
    claims.scheduler.fire_due()
    assert len(decisions(claims)) == 1  # neither lost by silence nor delayed: compensated once


def test_undelivered_sixty_days_after_dispatch_opens_a_delay_claim(claims):
    on_the_way(claims, insured=False)
    for day in range(9, 70, 9):  # the carrier keeps scanning, but it never arrives
        claims.clock.advance(days=9)
        claims.react(tracking("in_transit", f"evt-{day}").model_copy(update={"carrier_time": claims.clock.now()}))
        claims.scheduler.fire_due()
    [decided] = decisions(claims)
    assert decided["kind"] == "delayed" and decided["amount"] == "28.50"  # 30% of 95.00


def test_a_delivered_parcel_needs_no_guarantee(claims):
    on_the_way(claims, insured=True)
    claims.react(tracking("delivered").model_copy(update={"carrier_time": claims.clock.now()}))
    claims.clock.advance(days=90)
    assert claims.scheduler.fire_due() == 0 and decisions(claims) == []


def test_a_late_damage_claim_is_refused_naming_its_deadline(claims):
    on_the_way(claims, insured=False)
    delivered_at = claims.clock.now()
    claims.react(tracking("delivered").model_copy(update={"carrier_time": delivered_at}))
    claims.clock.advance(days=7, minutes=1)
    response = open_claim(claims)
    assert response.status_code == 409
    deadline = (delivered_at + timedelta(days=7)).isoformat()
    assert "within 7 days of delivery" in response.json()["detail"] and deadline in response.json()["detail"]
    claims.clock.advance(minutes=-2)
    assert open_claim(claims).status_code == 201


def test_a_customer_may_claim_a_lost_parcel_within_45_days_of_dispatch(claims):
    on_the_way(claims, insured=False)
    claims.clock.advance(days=46)
    late = open_claim(claims, claim_body("lost", None, description="never came"))
    assert late.status_code == 409 and "45 days of dispatch" in late.json()["detail"]


def order_placed(fee="19.90"):
    quote = QuoteV1(currency="CNY", total=Decimal("219.90"), rules_version="pricing-1",
                    lines=[QuoteLineV1(code="items", label="Items", amount=Decimal("200.00")),
                           QuoteLineV1(code="service_fee", label="Service fee", amount=Decimal(fee))])
    lines = [OrderLineV1(line_no=n, platform="taobao", item_id=f"item-{n}", product_url="https://item.taobao.com/x",
                         sku="sku", quantity=1, unit_price=Decimal("100.00")) for n in (1, 2)]
    return OrderPlaced(order_id=ORDER, customer_id="alice", destination_country="GB", lines=lines, quote=quote)


def paid():
    return PaymentRecorded(order_id=ORDER, payment_id=uuid.uuid4(), amount=Decimal("219.90"), currency="CNY",
                           method="paypal")


def purchased(line_no):
    return ItemPurchased(task_id=uuid.uuid4(), order_id=ORDER, line_no=line_no, platform="taobao",
                         platform_order_no="TB1", amount_paid=Decimal("100.00"), merchant_id="m1",
                         merchant_name="Shop", receipt_ref="r1", category="general", agent_id="buyer-1")


def test_a_purchase_missing_24_hours_after_payment_credits_the_service_fee(claims):
    claims.react(order_placed())
    claims.react(paid())
    claims.react(purchased(1))  # one of two lines bought in time
    claims.clock.advance(hours=24, minutes=1)
    assert claims.scheduler.fire_due() == 1
    [decided] = decisions(claims)
    assert decided["kind"] == "purchase_late" and decided["amount"] == "19.90" and decided["parcel_id"] is None
    assert decided["order_ids"] == [str(ORDER)] and "24" in decided["explanation_en"]
    assert claims.scheduler.fire_due() == 0


def test_a_purchase_made_in_time_credits_nothing(claims):
    claims.react(order_placed())
    claims.react(paid())
    claims.react(purchased(1))
    claims.react(purchased(2))
    claims.clock.advance(days=2)
    assert claims.scheduler.fire_due() == 0 and decisions(claims) == []


def test_every_decision_re_evaluates_to_its_amount_under_its_recorded_rule_version(claims):
    on_the_way(claims, insured=False)
    claims.react(incident("seized"))
    claims.react(order_placed())
    claims.react(paid())
    claims.clock.advance(days=2)
    claims.scheduler.fire_due()
    recorded = decisions(claims)
    assert len(recorded) == 2
    for decision in recorded:
        again = evaluate(decision["rule_version"], decision["inputs"])
        assert (str(again.amount), again.rule, again.explanation_en) == (
            decision["amount"], decision["rule"], decision["explanation_en"])
    assert COMPENSATION_DECISIONS.name == "compensation_decisions"


def received(line_no=1, code="KF-20261101-0009"):
    from contracts.warehouse import ItemReceived

    return ItemReceived(traceability_code=code, order_id=ORDER, customer_id="alice", line_no=line_no,
                        task_id=uuid.uuid4(), tracking_number="SF1", platform="taobao", item_id="item-1",
                        sku="sku", quantity_expected=1, category="general", amount_paid=Decimal("100.00"),
                        merchant_id="m-fake", merchant_name="Too Good Shop", platform_order_no="TB1",
                        receipt_ref="r1", staff_id="wh-1")


def inspected(issues, line_no=1, code="KF-20261101-0009"):
    from contracts.warehouse import ItemInspected

    return ItemInspected(traceability_code=code, order_id=ORDER, customer_id="alice", line_no=line_no,
                         quantity_checked=1, exterior_condition="intact", photos=["p1", "p2", "p3"],
                         passed=not issues, issues=issues, staff_id="wh-2")


def test_a_counterfeit_found_at_inspection_is_confirmed_once_and_refunded_in_full(claims):
    claims.react(order_placed())
    claims.react(received())
    claims.react(inspected(["counterfeit"]))
    claims.react(inspected(["counterfeit"]))  # redelivered
    [confirmed] = [e for e in claims.published() if e.type == "claims.CounterfeitConfirmed"]
    # line 1: 100.00 of items 200.00, plus half the 19.90 service fee
    assert confirmed.payload["refund_amount"] == "109.95" and confirmed.payload["merchant_id"] == "m-fake"
    assert confirmed.payload["source"] == "inspection" and confirmed.payload["evidence"] == ["p1", "p2", "p3"]
    assert confirmed.order_id == ORDER


def test_a_counterfeit_found_before_the_order_is_known_is_confirmed_when_it_is(claims):
    """Claims reads the warehouse's topic apart from orders': the inspection may be handled first.
    The refund needs the order's prices, so the finding waits for orders.OrderPlaced, once."""
    claims.react(received())
    claims.react(inspected(["counterfeit"]))
    assert "claims.CounterfeitConfirmed" not in claims.published_types()
    claims.react(order_placed())
    [confirmed] = [e for e in claims.published() if e.type == "claims.CounterfeitConfirmed"]
    assert confirmed.payload["refund_amount"] == "109.95" and confirmed.payload["source"] == "inspection"
    assert confirmed.payload["evidence"] == ["p1", "p2", "p3"] and confirmed.order_id == ORDER
    claims.react(order_placed())  # redelivered
    claims.react(inspected(["counterfeit"]))  # redelivered
    assert claims.published_types().count("claims.CounterfeitConfirmed") == 1


def test_an_ordinary_inspection_failure_is_no_counterfeit(claims):
    claims.react(order_placed())
    claims.react(received())
    claims.react(inspected(["exterior damaged"]))
    assert "claims.CounterfeitConfirmed" not in claims.published_types()


def ask_return(claims, kind="return", reason="changed_mind", product_type="general", line_no=1):
    return claims.client.post("/returns", headers=claims.as_("alice", "customer"), json={
        "order_id": str(ORDER), "line_no": line_no, "kind": kind, "reason": reason, "product_type": product_type})


def test_a_return_inside_its_window_goes_back_and_is_refunded_less_postage(claims):
    claims.react(order_placed())
    claims.react(received())
    claims.clock.advance(days=4)
    asked = ask_return(claims)
    assert asked.status_code == 201 and asked.json()["approved"] is True, asked.text
    return_id = asked.json()["return_id"]
    agent = claims.as_("buyer-1", "purchasing_agent")
    early = claims.client.post(f"/returns/{return_id}/merchant-refund", headers=agent, json={"amount": "100.00"})
    assert early.status_code == 409  # not shipped back yet
    shipped = claims.client.post(f"/returns/{return_id}/shipment", headers=agent,
                                 json={"carrier": "SF Express", "tracking_number": "SF77001"})
    assert shipped.json()["status"] == "shipped_back"
    refunded = claims.client.post(f"/returns/{return_id}/merchant-refund", headers=agent, json={"amount": "100.00"})
    assert refunded.json()["status"] == "refunded"
    [decided] = decisions(claims)
    assert decided["kind"] == "return_refund" and decided["amount"] == "88.00"  # 100.00 less 12.00 postage
    assert "12.00" in decided["explanation_en"] and "12.00" in decided["explanation_zh"]
    assert evaluate(decided["rule_version"], decided["inputs"]).amount == Decimal("88.00")


@pytest.mark.parametrize("product_type, reason, category, rule", [
    ("underwear", "changed_mind", "general", "excluded_underwear"),
    ("customised", "faulty", "general", "excluded_customised"),
    ("general", "changed_mind", "electronics", "electronics_only_if_faulty"),
])
def test_a_return_refused_for_its_product_type_names_the_rule(claims, product_type, reason, category, rule):
    claims.react(order_placed())
    claims.react(received().model_copy(update={"category": category}))
    asked = ask_return(claims, reason=reason, product_type=product_type).json()
    assert (asked["approved"], asked["status"], asked["rule"]) == (False, "refused", rule)
    [refused] = [e.payload for e in claims.published() if e.type == "claims.ReturnDecided"]
    assert refused["explanation_en"] and refused["explanation_zh"] and refused["approved"] is False


def test_returns_close_five_days_after_stock_in(claims):
    claims.react(order_placed())
    claims.react(received())
    claims.clock.advance(days=5, minutes=1)
    assert ask_return(claims).json()["rule"] == "outside_window"
    assert ask_return(claims, line_no=2).status_code == 409  # never arrived
    assert claims.client.post("/returns", headers=claims.as_("bob", "customer"), json={
        "order_id": str(ORDER), "line_no": 1, "kind": "return", "reason": "faulty"}).status_code == 404


def test_an_exchange_is_approved_for_purchasing_to_buy_again(claims):
    claims.react(order_placed())
    claims.react(received())
    asked = ask_return(claims, kind="exchange", reason="faulty")
    assert asked.json()["approved"] is True
    [exchange] = [e.payload for e in claims.published() if e.type == "claims.ReturnDecided"]
    assert exchange["kind"] == "exchange" and exchange["traceability_code"] == "KF-20261101-0009"


def test_a_counterfeit_found_through_a_claim_is_refunded_once_and_the_claim_pays_nothing_more(claims):
    from tests.unit.test_claims_app import VASE

    claims.react(order_placed())
    claims.react(received(code=VASE))
    on_the_way(claims, insured=False)
    claims.react(tracking("delivered").model_copy(update={"carrier_time": claims.clock.now()}))
    claim_id = open_claim(claims, claim_body("wrong_item", VASE, description="This is a fake.")).json()["claim_id"]
    body = {"evidence": ["photo://brand-check/1"], "notes": "the brand confirms it is not theirs"}
    agent = claims.as_("agent-7", "support_agent")
    confirmed = claims.client.post(f"/claims/{claim_id}/counterfeit", json=body, headers=agent)
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["amount"], confirmed.json()["rule"]) == ("0.00", "counterfeit_refunded_in_full")
    assert claims.client.post(f"/claims/{claim_id}/counterfeit", json=body, headers=agent).status_code == 409
    [counterfeit] = [e.payload for e in claims.published() if e.type == "claims.CounterfeitConfirmed"]
    assert counterfeit["source"] == "claim" and counterfeit["refund_amount"] == "109.95"
    assert counterfeit["evidence"] == ["photo://claim/1", "photo://brand-check/1"]
    [decided] = decisions(claims)
    assert decided["amount"] == "0.00" and "109.95" in decided["explanation_en"]
    assert evaluate(decided["rule_version"], decided["inputs"]).explanation_zh == decided["explanation_zh"]


def merchant_shipped(line_no=1):
    from contracts.purchasing import DomesticShipmentRecorded

    return DomesticShipmentRecorded(task_id=uuid.uuid4(), order_id=ORDER, customer_id="alice", line_no=line_no,
                                    carrier="SF Express", tracking_number="SF123", platform="taobao", item_id="i1",
                                    sku="sku", quantity=1, category="general", amount_paid=Decimal("100.00"),
                                    merchant_id="m1", merchant_name="Shop", platform_order_no="TB1",
                                    receipt_ref="r1", agent_id="buyer-1")


def line_claim(claims, line_no=1, who="alice"):
    return claims.client.post("/claims/before-warehouse", headers=claims.as_(who, "customer"), json={
        "order_id": str(ORDER), "line_no": line_no, "description": "The merchant's parcel never came."})


def test_an_item_that_never_reached_the_warehouse_is_claimed_before_it_and_refunded_in_full(claims):
    claims.react(order_placed())
    claims.react(merchant_shipped())
    early = line_claim(claims)
    assert early.status_code == 409 and "10 days after the merchant's shipment" in early.json()["detail"]
    claims.clock.advance(days=11)
    assert line_claim(claims, who="bob").status_code == 404
    opened = line_claim(claims)
    assert opened.status_code == 201 and opened.json()["parcel_id"] is None, opened.text
    assert line_claim(claims).status_code == 409  # one claim per line
    decided = claims.client.post(f"/claims/{opened.json()['claim_id']}/decision", json={
        "approved": True, "notes": "no intake record for SF123"}, headers=claims.as_("agent-7", "support_agent"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["amount"] == "109.95"  # 100.00 + half of the 19.90 service fee
    assert "109.95" in decided.json()["explanation_zh"]


def test_an_item_already_received_is_not_claimed_before_the_warehouse(claims):
    claims.react(order_placed())
    claims.react(merchant_shipped())
    claims.react(received())
    claims.clock.advance(days=11)
    refused = line_claim(claims)
    assert refused.status_code == 409 and "reached our warehouse" in refused.json()["detail"]


def test_a_seizure_reported_as_a_customs_status_is_compensated_once_like_an_incident(claims):
    from contracts.logistics import CustomsStatusReported

    on_the_way(claims, insured=False)
    status = CustomsStatusReported(parcel_id=PARCEL, order_ids=[ORDER], traceability_codes=[], status="customs_seized",
                                   carrier="fake-express", carrier_event_id="evt-cs", location="Felixstowe customs",
                                   carrier_time=datetime.now(timezone.utc))
    claims.react(status.model_copy(update={"status": "customs_hold"}))
    assert decisions(claims) == []
    claims.react(status)
    claims.react(incident("seized"))
    [decided] = decisions(claims)
    assert (decided["kind"], decided["amount"]) == ("seized", "50.00")


def test_an_incident_handled_before_the_packing_is_compensated_when_the_packing_arrives(claims):
    """Claims reads logistics' and the warehouse's topics independently: a carrier's report can be
    handled before the parcel is known as packed, and must still be compensated, once."""
    line = shipping_chosen().model_copy(update={"line_code": "economy-air"})
    for event in (line, insurance(False), shipped(), incident("seized")):
        claims.react(event)
    assert decisions(claims) == [], "not yet known as packed: nothing to compensate against"
    claims.react(packed())
    [decided] = decisions(claims)
    assert (decided["kind"], decided["amount"], decided["rule"]) == ("seized", "50.00", "seized_route_standard")
    claims.react(incident("lost"))
    claims.clock.advance(days=61)
    claims.scheduler.fire_due()
    assert len(decisions(claims)) == 1


def test_purchasing_facts_handled_before_the_order_is_known_still_count(claims):
    """Claims reads purchasing's topic independently of orders': a bought line and a merchant's
    shipment handled before `orders.OrderPlaced` must neither trigger the 24-hour refund nor make
    a never-arrived claim refused; the order's customer still cannot be guessed before it."""
    claims.react(purchased(1))
    claims.react(purchased(2))
    claims.react(merchant_shipped())
    claims.clock.advance(days=11)
    assert line_claim(claims).status_code == 404, "the order's customer is not known yet"
    claims.react(order_placed())
    claims.react(paid())
    claims.clock.advance(days=2)
    assert claims.scheduler.fire_due() == 1  # the 24-hour deadline comes ...
    assert decisions(claims) == [], "... and finds both lines bought"
    opened = line_claim(claims)
    assert opened.status_code == 201, opened.text

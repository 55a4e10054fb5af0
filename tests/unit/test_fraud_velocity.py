"""Velocity rules: windows per customer over event times, thresholds from settings, verdicts that
hold the order (fraud.OrderFlagged, which orders acts on) with the velocity version recorded."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

import pytest

from contracts.orders import OrderPlaced, PaymentRecorded
from services.fraud.bootstrap import bootstrap as fraud_bootstrap
from services.fraud.velocity import SeenPayment, Thresholds, VELOCITY_VERSION, velocity_reasons
from tests.apptest import ServiceHarness

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)


def test_the_payments_window_slides_over_event_times():
    three = Thresholds(max_payments=2, max_amount=Decimal("1000000"))
    seen = [SeenPayment(f"p{i}", T0 + timedelta(minutes=i), Decimal("10")) for i in range(3)]
    assert velocity_reasons(seen[:2], T0 + timedelta(minutes=1), three) == []
    (reason,) = velocity_reasons(seen, T0 + timedelta(minutes=2), three)
    assert "3 payments" in reason and "10 minutes" in reason
    later = seen + [SeenPayment("p9", T0 + timedelta(minutes=11, seconds=1), Decimal("10"))]
    assert velocity_reasons(later, T0 + timedelta(minutes=11, seconds=1), three) == []  # p0 and p1 slid out
    # A window ends at the payment under review: later payments do not count against an earlier one.
    assert velocity_reasons(later, T0 + timedelta(minutes=1), three) == []


def test_the_amount_window_covers_24_hours():
    limit = Thresholds(max_payments=100, max_amount=Decimal("1000.00"))
    seen = [SeenPayment("a", T0, Decimal("600.00")), SeenPayment("b", T0 + timedelta(hours=23), Decimal("500.00"))]
    (reason,) = velocity_reasons(seen, T0 + timedelta(hours=23), limit)
    assert "1100.00 CNY" in reason and "24 hours" in reason
    assert velocity_reasons(seen, T0 + timedelta(hours=23), Thresholds(100, Decimal("1100.00"))) == []
    moved = [seen[0], SeenPayment("b", T0 + timedelta(hours=24, seconds=1), Decimal("500.00"))]
    assert velocity_reasons(moved, moved[1].at, limit) == []
    assert Thresholds(3, Decimal("10")).version.startswith(VELOCITY_VERSION) and "payments>3" in \
        Thresholds(3, Decimal("10")).version


@pytest.fixture
def fraud(tmp_path, monkeypatch):
    monkeypatch.setenv("KONGFU_FRAUD_VELOCITY_MAX_PAYMENTS", "2")
    monkeypatch.setenv("KONGFU_FRAUD_VELOCITY_MAX_AMOUNT", "1000.00")
    return ServiceHarness(fraud_bootstrap, tmp_path)


def order(fraud, customer="alice", price="10.00"):
    order_id = uuid4()
    fraud.react(OrderPlaced.model_validate({
        "order_id": str(order_id), "customer_id": customer, "destination_country": "GB",
        "lines": [{"line_no": 1, "platform": "jd", "item_id": "1", "product_url": "https://item.jd.com/1.html",
                   "sku": "s", "quantity": 1, "unit_price": price}],
        "quote": {"currency": "CNY", "lines": [], "total": price, "rules_version": "t"}}))
    return order_id


def paid(fraud, order_id, at: datetime, amount="10.00", payment_id=None):
    payment = PaymentRecorded(order_id=order_id, payment_id=payment_id or uuid4(), amount=Decimal(amount),
                              currency="CNY", method="card")
    fraud.react(payment, occurred_at=at)
    return payment


def verdicts(fraud) -> dict[str, list[str]]:
    return {e.payload["order_id"]: e.payload.get("reasons", []) for e in fraud.published()
            if e.type in ("fraud.OrderCleared", "fraud.OrderFlagged")}


def test_a_third_payment_within_ten_minutes_holds_that_order_for_review(fraud):
    orders = [order(fraud) for _ in range(4)]
    first, *_ = [paid(fraud, order_id, T0 + timedelta(minutes=minute)) for minute, order_id in zip((0, 1, 2), orders)]
    fraud.react(first, occurred_at=T0)  # a redelivery: no second decision, not counted twice
    decided = verdicts(fraud)
    assert decided[str(orders[0])] == [] and decided[str(orders[1])] == []
    (reason,) = decided[str(orders[2])]
    assert reason.startswith("velocity: 3 payments")
    flagged = [e for e in fraud.published() if e.type == "fraud.OrderFlagged"]
    assert len(flagged) == 1 and "velocity-2026.12" in fraud.client.get(
        f"/fraud/cases/{orders[2]}", headers=fraud.as_("risk-1", "risk_analyst")).json()["decisions"][0]["rules_version"]
    paid(fraud, orders[3], T0 + timedelta(minutes=13))  # the window slid: clear
    assert verdicts(fraud)[str(orders[3])] == []
    other = order(fraud, customer="bob")
    paid(fraud, other, T0 + timedelta(minutes=2))  # another customer's window
    assert verdicts(fraud)[str(other)] == []

    analyst = fraud.as_("risk-1", "risk_analyst")
    assert [c["order_id"] for c in fraud.client.get("/fraud/review-queue", headers=analyst).json()] == [str(orders[2])]
    released = fraud.client.post(f"/fraud/cases/{orders[2]}/review", headers=analyst,
                                 json={"decision": "release", "reason": "a buyer stocking up for a shop"})
    assert released.status_code == 200 and not released.json()["held"]


def test_a_late_arriving_payment_is_judged_by_its_own_event_time(fraud):
    orders = [order(fraud) for _ in range(4)]
    for minute, order_id in zip((0, 1, 20), orders):
        paid(fraud, order_id, T0 + timedelta(minutes=minute))
    paid(fraud, orders[3], T0 + timedelta(minutes=2))  # arrives last, happened third
    assert verdicts(fraud)[str(orders[2])] == []
    assert verdicts(fraud)[str(orders[3])][0].startswith("velocity: 3 payments")


def test_too_much_money_within_a_day_holds_the_order(fraud):
    first, second = order(fraud, price="600.00"), order(fraud, price="500.00")
    paid(fraud, first, T0, amount="600.00")
    paid(fraud, second, T0 + timedelta(hours=5), amount="500.00")
    assert verdicts(fraud)[str(first)] == []
    assert "1100.00 CNY" in verdicts(fraud)[str(second)][0]

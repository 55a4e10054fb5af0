"""Uncertain screening hits hold a line for a compliance analyst instead of refusing it: the customer
reads "under review" with the reason in English and Chinese, purchasing does not buy the line, and
an analyst approves it (bought) or refuses it (cancelled and refunded), on the timeline."""

from uuid import uuid4

import pytest

from contracts.orders import LineHeldForScreening, OrderConfirmed, OrderPlaced, ScreeningHoldDecided
from contracts.payments import PaymentSucceeded
from services.orders.screening import published_rules, refused_and_held
from tests.unit.test_orders_screening import SHIRT, alice, item, orders, place  # noqa: F401 - fixtures
from tests.unit.test_purchasing_app import agent, purchasing  # noqa: F401 - fixtures

BELT = "https://item.taobao.com/item.htm?id=6500000007"


def paid(orders, order: dict) -> None:
    orders.react(PaymentSucceeded(payment_id=uuid4(), order_id=order["order_id"], customer_id="alice",
                                  purpose="order", amount=order["quote"]["total"], currency="CNY", method="card",
                                  provider="stripe"))


def test_reviewing_rules_hold_and_refusing_rules_win():
    lines = [{"line_no": 1, "platform": "taobao", "title": "Gucci belt, leather", "sku": "black"},
             {"line_no": 2, "platform": "taobao", "title": "Gucci replica belt", "sku": "black"},
             {"line_no": 3, "platform": "taobao", "title": "Vitamin C supplements", "sku": "60 capsules"}]
    refused, held = refused_and_held(lines, "AU")
    assert [(r.line_no, r.rule) for r in refused] == [(2, "counterfeit-indicator")]
    assert [(h.line_no, h.rule) for h in held] == [(1, "brand-authenticity-review"),
                                                   (3, "destination-restricted-medicines")]
    assert refused_and_held(lines[2:], "JP") == ([], [])  # not restricted there
    rules = published_rules()
    assert "brand-authenticity-review" in rules["hold_for_review"] and "prohibited-weapons" in rules["refuse"]


def test_a_held_line_waits_for_an_analyst_who_approves_or_refuses_it(orders, alice):
    analyst, bob = orders.as_("rita", "risk_analyst"), orders.as_("bob", "customer")
    answer = place(orders, alice, item(), item(BELT, "Gucci belt, leather", "black"))
    assert answer.status_code == 201
    order = answer.json()
    shirt, belt = order["lines"]
    assert shirt["status"] == "active" and shirt["review"] is None
    assert belt["status"] == "under_review" and belt["review"]["rule"] == "brand-authenticity-review"
    assert "compliance analyst" in belt["review"]["reason"] and "合规" in belt["review"]["reason_zh"]
    (held,) = [e.payload for e in orders.published() if e.type == "orders.LineHeldForScreening"]
    assert held["line_no"] == 2 and held["rules_version"] == "screening-2026.12" and held["matched"] == "Gucci"

    (queued,) = orders.client.get("/screening/holds", headers=analyst).json()
    assert queued["order_id"] == order["order_id"] and queued["line_no"] == 2
    assert orders.client.get("/screening/holds", headers=alice).status_code == 403
    url = f"/screening/holds/{order['order_id']}/lines/2/decision"
    unpaid = orders.client.post(url, headers=analyst, json={"decision": "approve", "reason": "authorised seller"})
    assert unpaid.status_code == 409 and "not paid" in unpaid.json()["detail"]
    paid(orders, order)
    assert orders.client.post(url, headers=alice, json={"decision": "approve", "reason": "ok!"}).status_code == 403
    assert orders.client.post(url, headers=analyst, json={"decision": "maybe", "reason": "x y"}).status_code == 422

    refused = orders.client.post(url, headers=analyst, json={"decision": "refuse", "reason": "seller not authorised"})
    assert refused.status_code == 200 and refused.json()["line_status"] == "cancelled"
    (refund,) = refused.json()["refunds"]
    assert float(refund["amount"]) >= 80  # the line, with its share of the fee
    assert orders.client.get(f"/orders/{order['order_id']}", headers=alice).json()["lines"][1]["status"] == "cancelled"
    again = orders.client.post(url, headers=analyst, json={"decision": "approve", "reason": "changed my mind"})
    assert again.status_code == 409
    assert orders.client.get("/screening/holds", headers=analyst).json() == []
    (decided,) = [e for e in orders.published() if e.type == "orders.ScreeningHoldDecided"]
    assert decided.payload["approved"] is False and decided.payload["reason"] == "seller not authorised"
    assert decided.actor == "risk_analyst:rita" and decided.payload["rules_version"] == "screening-2026.12"
    assert "orders.RefundIssued" in orders.published_types() and "orders.LineCancelled" in orders.published_types()

    orders.project()
    timeline = orders.client.get(f"/orders/{order['order_id']}/timeline", headers=alice).json()["entries"]
    stages = {e["stage"]: e for e in timeline}
    assert stages["under_review"]["details"]["reason_zh"] and stages["under_review"]["name_zh"] == "采购前合规审核中"
    assert stages["review_decided"]["actor"] == "risk team"  # the customer sees the team, not the analyst
    auditor = orders.as_("audrey", "auditor")
    staff_view = orders.client.get(f"/orders/{order['order_id']}/timeline", headers=auditor).json()["entries"]
    assert next(e for e in staff_view if e["stage"] == "review_decided")["actor"] == "risk_analyst:rita"
    assert orders.client.get(f"/orders/{order['order_id']}", headers=bob).status_code == 404


def test_purchasing_does_not_buy_a_held_line_until_it_is_approved(purchasing, agent):
    order_id, line = str(uuid4()), {"line_no": 1, "platform": "taobao", "item_id": "6500000007", "sku": "black",
                                    "quantity": 1, "product_url": BELT, "unit_price": "80.00"}
    purchasing.react(OrderPlaced(order_id=order_id, customer_id="alice", destination_country="GB", lines=[line],
                                 quote={"currency": "CNY", "lines": [], "total": "80.00",
                                        "rules_version": "pricing-2026.11"}))
    hold = LineHeldForScreening(order_id=order_id, customer_id="alice", line_no=1, rule="brand-authenticity-review",
                                kind="protected_brand", reason="check the seller", reason_zh="核实卖家", matched="Gucci",
                                rules_version="screening-2026.12")
    purchasing.react(hold)
    purchasing.react(hold)  # redelivered: nothing more
    purchasing.react(OrderConfirmed(order_id=order_id))
    (task,) = purchasing.client.get(f"/purchasing/orders/{order_id}/tasks", headers=agent).json()
    body = {"platform_order_no": "TB1", "amount_paid": "80.00", "merchant_id": "m-1", "merchant_name": "Belts",
            "receipt_ref": "receipt://taobao/1", "category": "general"}
    url = f"/purchasing/tasks/{task['task_id']}/purchase"
    refused = purchasing.client.post(url, headers=agent, json=body)
    assert refused.status_code == 409 and "compliance review" in refused.json()["detail"]

    purchasing.react(ScreeningHoldDecided(order_id=order_id, customer_id="alice", line_no=1,
                                          rule="brand-authenticity-review", approved=True, reason="authorised",
                                          rules_version="screening-2026.12"))
    assert purchasing.client.post(url, headers=agent, json=body).status_code == 200

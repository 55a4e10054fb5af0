"""The purchasing service in process: its gateway and its reactions to orders."""

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from contracts.orders import (
    LineCancelled,
    OrderConfirmed,
    OrderHeld,
    OrderPlaced,
    PriceChangeAccepted,
    QcResolutionChosen,
)
from contracts.purchasing import DomesticShipmentRecorded
from service_runtime.errors import NotFound
from services.purchasing.bootstrap import bootstrap
from services.purchasing.domain import task_id_for
from tests.apptest import ServiceHarness

LINES = [
    {"line_no": 1, "platform": "taobao", "item_id": "6543217890", "sku": "vase:blue", "quantity": 1,
     "product_url": "https://item.taobao.com/item.htm?id=6543217890", "unit_price": "268.00"},
    {"line_no": 2, "platform": "jd", "item_id": "100012043978", "sku": "shirt:M", "quantity": 2,
     "product_url": "https://item.jd.com/100012043978.html", "unit_price": "59.00"},
]
QUOTE = {"currency": "CNY", "lines": [], "total": "400.00", "rules_version": "pricing-2026.11"}
PURCHASE = {"platform_order_no": "TB2026110001", "amount_paid": "268.00", "merchant_id": "m-88231",
            "merchant_name": "Hangzhou Good Goods Store", "receipt_ref": "receipt://taobao/2026110001",
            "category": "fragile"}


@pytest.fixture
def purchasing(tmp_path):
    return ServiceHarness(bootstrap, tmp_path)


@pytest.fixture
def agent(purchasing):
    return purchasing.as_("agent-7", "purchasing_agent")


def confirmed_order(purchasing) -> str:
    order_id = str(uuid4())
    purchasing.react(OrderPlaced(order_id=order_id, customer_id="alice", destination_country="GB",
                                 lines=LINES, quote=QUOTE))
    purchasing.react(OrderConfirmed(order_id=order_id))
    return order_id


def task_of(purchasing, agent, order_id: str, line_no: int) -> dict:
    tasks = purchasing.client.get(f"/purchasing/orders/{order_id}/tasks", headers=agent).json()
    return next(t for t in tasks if t["line_no"] == line_no)


def test_a_confirmed_order_opens_one_task_per_line_once(purchasing, agent):
    order_id = confirmed_order(purchasing)
    assert purchasing.react(OrderConfirmed(order_id=order_id)) == "handled"  # a new event id, the same fact
    tasks = purchasing.client.get(f"/purchasing/orders/{order_id}/tasks", headers=agent).json()
    assert [(t["line_no"], t["status"], t["expected_unit_price"]) for t in tasks] == [
        (1, "open", "268.00"), (2, "open", "59.00")]
    assert tasks[0]["task_id"] == str(task_id_for(order_id, 1, 1))
    opened = [e for e in purchasing.published() if e.type == "purchasing.PurchaseTaskOpened"]
    assert len(opened) == 2 and opened[1].payload["customer_id"] == "alice"
    assert opened[1].order_id is not None and str(opened[1].order_id) == order_id


def test_confirmation_of_an_unknown_order_is_refused(purchasing):
    with pytest.raises(NotFound):
        purchasing.react(OrderConfirmed(order_id=uuid4()))


def test_purchase_then_shipment_publishes_every_field(purchasing, agent):
    order_id = confirmed_order(purchasing)
    task = task_of(purchasing, agent, order_id, 1)
    bought = purchasing.client.post(f"/purchasing/tasks/{task['task_id']}/purchase", json=PURCHASE, headers=agent)
    assert bought.status_code == 200 and bought.json()["status"] == "purchased"
    clerk = purchasing.as_("agent-9", "purchasing_agent")
    shipped = purchasing.client.post(f"/purchasing/tasks/{task['task_id']}/domestic-shipment", headers=clerk,
                                     json={"carrier": "SF Express", "tracking_number": "SF1234567890"})
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped_to_warehouse"
    again = purchasing.client.post(f"/purchasing/tasks/{task['task_id']}/domestic-shipment", headers=clerk,
                                   json={"carrier": "SF Express", "tracking_number": "SF1234567890"})
    assert again.status_code == 409
    envelopes = {e.type: e for e in purchasing.published()}
    assert envelopes["purchasing.ItemPurchased"].payload["agent_id"] == "agent-7"
    shipment = DomesticShipmentRecorded.model_validate(envelopes["purchasing.DomesticShipmentRecorded"].payload)
    assert shipment.model_dump() == {
        "task_id": task_id_for(order_id, 1, 1), "order_id": UUID(order_id),
        "customer_id": "alice", "line_no": 1, "carrier": "SF Express", "tracking_number": "SF1234567890",
        "platform": "taobao", "item_id": "6543217890", "sku": "vase:blue", "quantity": 1, "category": "fragile",
        "amount_paid": Decimal("268.00"), "merchant_id": "m-88231", "merchant_name": "Hangzhou Good Goods Store",
        "platform_order_no": "TB2026110001", "receipt_ref": "receipt://taobao/2026110001", "agent_id": "agent-9"}


def test_shipment_before_purchase_is_a_conflict(purchasing, agent):
    task = task_of(purchasing, agent, confirmed_order(purchasing), 2)
    response = purchasing.client.post(f"/purchasing/tasks/{task['task_id']}/domestic-shipment", headers=agent,
                                      json={"carrier": "SF Express", "tracking_number": "SF1234567890"})
    assert response.status_code == 409 and "not been purchased" in response.json()["detail"]


def test_price_change_accepted_makes_the_task_purchasable_again(purchasing, agent):
    order_id = confirmed_order(purchasing)
    task_id = task_of(purchasing, agent, order_id, 2)["task_id"]
    same = purchasing.client.post(f"/purchasing/tasks/{task_id}/price-change", json={"new_unit_price": "59.00"},
                                  headers=agent)
    assert same.status_code == 422 and "current expected price" in same.json()["detail"]
    asked = purchasing.client.post(f"/purchasing/tasks/{task_id}/price-change", json={"new_unit_price": "65.00"},
                                   headers=agent)
    assert asked.json()["status"] == "awaiting_customer"
    blocked = purchasing.client.post(f"/purchasing/tasks/{task_id}/purchase", json=PURCHASE, headers=agent)
    assert blocked.status_code == 409 and "customer's decision" in blocked.json()["detail"]
    request = next(e for e in purchasing.published() if e.type == "purchasing.PriceChangeRequested").payload
    assert (request["old_unit_price"], request["new_unit_price"], request["quantity"]) == ("59.00", "65.00", 2)

    accepted = PriceChangeAccepted(order_id=order_id, line_no=2, new_unit_price=Decimal("65.00"),
                                   price_difference=Decimal("12.00"))
    purchasing.react(accepted)
    purchasing.react(accepted)  # redelivered under a new event id: nothing more
    task = purchasing.client.get(f"/purchasing/tasks/{task_id}", headers=agent).json()
    assert (task["status"], task["expected_unit_price"], task["version"]) == ("open", "65.00", 3)
    bought = purchasing.client.post(f"/purchasing/tasks/{task_id}/purchase", headers=agent,
                                    json={**PURCHASE, "amount_paid": "130.00", "category": "general"})
    assert bought.status_code == 200


def test_out_of_stock_then_line_cancelled_cancels_the_task(purchasing, agent):
    order_id = confirmed_order(purchasing)
    task_id = task_of(purchasing, agent, order_id, 1)["task_id"]
    reported = purchasing.client.post(f"/purchasing/tasks/{task_id}/out-of-stock", headers=agent)
    assert reported.status_code == 200 and reported.json()["status"] == "awaiting_customer"
    cancelled = LineCancelled(order_id=order_id, line_no=1, reason="cancelled by the customer after out_of_stock")
    purchasing.react(cancelled)
    purchasing.react(cancelled)
    task = purchasing.client.get(f"/purchasing/tasks/{task_id}", headers=agent).json()
    assert task["status"] == "cancelled" and task["cancel_reason"].startswith("cancelled by the customer")
    published = [e for e in purchasing.published() if e.type == "purchasing.PurchaseTaskCancelled"]
    assert len(published) == 1 and published[0].payload["reason"] == cancelled.reason
    assert purchasing.published_types().count("purchasing.OutOfStockReported") == 1


def test_a_held_order_blocks_the_purchase(purchasing, agent):
    order_id = confirmed_order(purchasing)
    task_id = task_of(purchasing, agent, order_id, 1)["task_id"]
    purchasing.react(OrderHeld(order_id=order_id, reasons=["duplicate payment: 2 payments were recorded"]))
    response = purchasing.client.post(f"/purchasing/tasks/{task_id}/purchase", json=PURCHASE, headers=agent)
    assert response.status_code == 409 and "on hold" in response.json()["detail"]
    task = purchasing.client.get(f"/purchasing/tasks/{task_id}", headers=agent).json()
    assert task["on_hold"] and task["status"] == "open"
    assert "purchasing.ItemPurchased" not in purchasing.published_types()


def test_a_released_hold_lets_the_tasks_be_bought(purchasing, agent):
    # Held by payment review before the first confirmation: the analyst's release confirms the order.
    held_first = str(uuid4())
    purchasing.react(OrderPlaced(order_id=held_first, customer_id="alice", destination_country="GB",
                                 lines=LINES, quote=QUOTE))
    purchasing.react(OrderHeld(order_id=held_first, reasons=["duplicate payment: 2 payments were recorded"]))
    purchasing.react(OrderConfirmed(order_id=held_first))
    # Held after it was confirmed (a velocity verdict that came later), then released.
    held_later = confirmed_order(purchasing)
    purchasing.react(OrderHeld(order_id=held_later, reasons=["velocity: customer_payments_per_hour"]))
    purchasing.react(OrderConfirmed(order_id=held_later))
    for order_id in (held_first, held_later):
        task_id = task_of(purchasing, agent, order_id, 1)["task_id"]
        assert not purchasing.client.get(f"/purchasing/tasks/{task_id}", headers=agent).json()["on_hold"]
        bought = purchasing.client.post(f"/purchasing/tasks/{task_id}/purchase", json=PURCHASE, headers=agent)
        assert bought.status_code == 200, bought.text


def test_repurchase_opens_the_next_attempt_once(purchasing, agent):
    order_id = confirmed_order(purchasing)
    task_id = task_of(purchasing, agent, order_id, 1)["task_id"]
    purchasing.client.post(f"/purchasing/tasks/{task_id}/purchase", json=PURCHASE, headers=agent)
    purchasing.client.post(f"/purchasing/tasks/{task_id}/domestic-shipment", headers=agent,
                           json={"carrier": "SF Express", "tracking_number": "SF1234567890"})
    purchasing.react(QcResolutionChosen(order_id=order_id, line_no=1, traceability_code="KF-1", choice="refund"))
    repurchase = QcResolutionChosen(order_id=order_id, line_no=1, traceability_code="KF-1", choice="repurchase")
    purchasing.react(repurchase)
    purchasing.react(repurchase)
    tasks = purchasing.client.get(f"/purchasing/orders/{order_id}/tasks", headers=agent).json()
    assert [(t["line_no"], t["attempt"], t["status"]) for t in tasks] == [
        (1, 1, "shipped_to_warehouse"), (1, 2, "open"), (2, 1, "open")]
    assert tasks[1]["task_id"] == str(task_id_for(order_id, 1, 2))
    assert purchasing.published_types().count("purchasing.PurchaseTaskOpened") == 3


def test_staff_readers_read_and_customers_are_forbidden(purchasing, agent):
    order_id = confirmed_order(purchasing)
    task_id = task_of(purchasing, agent, order_id, 1)["task_id"]
    for role in ("support_agent", "auditor"):
        reader = purchasing.as_("staff-1", role)
        assert purchasing.client.get(f"/purchasing/tasks/{task_id}", headers=reader).status_code == 200
        refused = purchasing.client.post(f"/purchasing/tasks/{task_id}/out-of-stock", headers=reader)
        assert refused.status_code == 403
    alice = purchasing.as_("alice", "customer")
    for method, path in (("GET", f"/purchasing/orders/{order_id}/tasks"), ("GET", f"/purchasing/tasks/{task_id}"),
                         ("POST", f"/purchasing/tasks/{task_id}/out-of-stock")):
        response = purchasing.client.request(method, path, headers=alice)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
    assert purchasing.client.get(f"/purchasing/tasks/{task_id}").status_code == 401
    assert purchasing.client.get(f"/purchasing/tasks/{uuid4()}", headers=agent).status_code == 404


@pytest.mark.parametrize("body,field", [
    ({**PURCHASE, "amount_paid": "0"}, "amount_paid"),
    ({**PURCHASE, "amount_paid": "-5.00"}, "amount_paid"),
    ({key: value for key, value in PURCHASE.items() if key != "receipt_ref"}, "receipt_ref"),
    ({**PURCHASE, "category": "weapons"}, "category"),
    ({**PURCHASE, "card_number": "4111111111111111"}, "card_number"),
])
def test_bad_purchase_input_gets_a_problem_body(purchasing, agent, body, field):
    task_id = task_of(purchasing, agent, confirmed_order(purchasing), 1)["task_id"]
    response = purchasing.client.post(f"/purchasing/tasks/{task_id}/purchase", json=body, headers=agent)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and field in problem["detail"]
    assert "4111111111111111" not in response.text


def test_bad_price_and_shipment_input_gets_a_problem_body(purchasing, agent):
    task_id = task_of(purchasing, agent, confirmed_order(purchasing), 1)["task_id"]
    price = purchasing.client.post(f"/purchasing/tasks/{task_id}/price-change", json={"new_unit_price": "abc"},
                                   headers=agent)
    shipment = purchasing.client.post(f"/purchasing/tasks/{task_id}/domestic-shipment", headers=agent,
                                      json={"carrier": "", "tracking_number": "SF1234567890"})
    for response, field in ((price, "new_unit_price"), (shipment, "carrier")):
        assert response.status_code == 422 and field in response.json()["detail"]
        assert response.headers["content-type"].startswith("application/problem+json")

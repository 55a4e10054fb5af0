"""The purchase task's state machine, on its own and inside the aggregate (pure: no store)."""

from decimal import Decimal
from uuid import uuid4

import pytest

from service_runtime.errors import Conflict, DomainError
from services.purchasing.domain import PurchaseTask, PurchasingOrder, task_id_for
from services.purchasing.lifecycle import (
    AWAITING_CUSTOMER,
    CANCELLED,
    OPEN,
    PURCHASED,
    SHIPPED,
    STATUSES,
    TRANSITIONS,
    next_status,
)

LINE = {"line_no": 1, "platform": "taobao", "item_id": "6543217890", "sku": "colour:black", "quantity": 2,
        "product_url": "https://item.taobao.com/item.htm?id=6543217890", "unit_price": Decimal("59.00")}
PURCHASE = {"platform_order_no": "TB2026110001", "amount_paid": Decimal("118.00"), "merchant_id": "m-1",
            "merchant_name": "Hangzhou Good Goods", "receipt_ref": "receipt://taobao/1", "category": "general"}


def confirmed_order() -> PurchasingOrder:
    order = PurchasingOrder(order_id=uuid4(), customer_id="alice", lines=[LINE])
    order.confirm()
    return order


def open_task() -> PurchaseTask:
    return PurchaseTask.open(confirmed_order(), 1, 1)


@pytest.mark.parametrize("status,step,expected", [
    (OPEN, "purchase", PURCHASED),
    (OPEN, "request_price_change", AWAITING_CUSTOMER),
    (OPEN, "report_out_of_stock", AWAITING_CUSTOMER),
    (AWAITING_CUSTOMER, "reopen_at_new_price", OPEN),
    (PURCHASED, "record_domestic_shipment", SHIPPED),
    (OPEN, "cancel", CANCELLED),
    (AWAITING_CUSTOMER, "cancel", CANCELLED),
])
def test_allowed_steps(status, step, expected):
    assert next_status(status, step) == expected


def test_every_other_step_is_a_conflict_that_says_why():
    for step, (starts, _) in TRANSITIONS.items():
        for status in set(STATUSES) - set(starts):
            with pytest.raises(Conflict, match="cannot"):
                next_status(status, step)


def test_a_hold_stops_only_the_purchase():
    with pytest.raises(Conflict, match="on hold"):
        next_status(OPEN, "purchase", on_hold=True)
    assert next_status(OPEN, "report_out_of_stock", on_hold=True) == AWAITING_CUSTOMER


def test_the_first_task_of_a_line_has_a_stable_id_and_the_line_price():
    order = confirmed_order()
    task = PurchaseTask.open(order, 1, 1)
    assert task.id == task_id_for(order.order_id, 1, 1) and task.expected_unit_price == Decimal("59.00")
    assert order.confirm() is False and order.task_ids() == [task.id]


def test_purchase_then_shipment_once():
    task = open_task()
    task.buy(agent_id="agent-1", **PURCHASE)
    task.record_domestic_shipment("SF Express", "SF1234567890", "agent-2")
    assert task.status == SHIPPED and task.purchase["purchased_by"] == "agent-1"
    with pytest.raises(Conflict, match="already purchased and shipped"):
        task.record_domestic_shipment("SF Express", "SF1234567890", "agent-2")


def test_shipment_before_purchase_is_a_conflict():
    with pytest.raises(Conflict, match="not been purchased"):
        open_task().record_domestic_shipment("SF Express", "SF1", "agent-1")


def test_purchase_needs_a_receipt_and_a_positive_amount():
    task = open_task()
    with pytest.raises(DomainError, match="receipt"):
        task.buy(agent_id="a", **{**PURCHASE, "receipt_ref": "  "})
    with pytest.raises(DomainError, match="more than 0"):
        task.buy(agent_id="a", **{**PURCHASE, "amount_paid": Decimal("0")})
    assert task.status == OPEN and task.version == 1


def test_price_change_then_accepted_reopens_at_the_new_price_once():
    task = open_task()
    with pytest.raises(DomainError, match="current expected price"):
        task.request_price_change(Decimal("59.00"), "agent-1")
    task.request_price_change(Decimal("65.00"), "agent-1")
    assert task.status == AWAITING_CUSTOMER
    task.reopen_at(Decimal("65.00"))
    version = task.version
    task.reopen_at(Decimal("65.00"))  # the same fact again changes nothing
    assert task.status == OPEN and task.expected_unit_price == Decimal("65.00") and task.version == version


def test_out_of_stock_is_not_reopened_by_a_price():
    task = open_task()
    task.report_out_of_stock("agent-1")
    with pytest.raises(Conflict, match="out_of_stock"):
        task.reopen_at(Decimal("70.00"))


def test_hold_affects_only_unbought_tasks_and_only_once():
    bought, waiting = open_task(), open_task()
    bought.buy(agent_id="a", **PURCHASE)
    bought.hold(["duplicate payment"])
    assert not bought.on_hold
    waiting.hold(["duplicate payment"])
    version = waiting.version
    waiting.hold(["duplicate payment"])
    assert waiting.on_hold and waiting.version == version
    with pytest.raises(Conflict, match="on hold"):
        waiting.buy(agent_id="a", **PURCHASE)


def test_cancel_is_idempotent_and_never_undoes_a_purchase():
    task = open_task()
    task.cancel("out of stock")
    version = task.version
    task.cancel("out of stock")
    assert task.status == CANCELLED and task.version == version
    bought = open_task()
    bought.buy(agent_id="a", **PURCHASE)
    with pytest.raises(Conflict, match="already purchased"):
        bought.cancel("too late")


def test_repurchase_starts_one_attempt_per_failed_item():
    order = confirmed_order()
    assert order.start_repurchase(1, "KF-0001") == 2
    assert order.start_repurchase(1, "KF-0001") is None
    assert order.start_repurchase(1, "KF-0002") == 3
    assert order.current_task_id(1) == task_id_for(order.order_id, 1, 3)

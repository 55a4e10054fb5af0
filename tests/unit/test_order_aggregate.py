from decimal import Decimal
from uuid import uuid4

import pytest

from service_runtime.tracing import trace
from services.orders.domain import CONFIRMED, ON_HOLD, UNDER_REVIEW, Order


def new_order() -> Order:
    quote = {"currency": "CNY", "lines": [], "total": Decimal("100.00"), "rules_version": "t"}
    return Order(customer_id="alice", destination_country="GB", lines=[], quote=quote)


def test_a_confirmed_payment_counts_once():
    order = new_order()
    payment_id = uuid4()
    assert order.record_payment(payment_id, Decimal("100.00"), "card", "stripe")
    version = order.version
    assert not order.record_payment(payment_id, Decimal("100.00"), "card", "stripe")
    assert order.version == version and order.status == UNDER_REVIEW and len(order.payments) == 1


def test_a_failed_payment_leaves_the_order_unpaid_with_the_reason():
    order = new_order()
    order.note_failed_payment(payment_id := uuid4(), "declined: Your card was declined.")
    order.note_failed_payment(payment_id, "declined: Your card was declined.")
    assert order.status == "awaiting_payment" and order.payments == [] and len(order.failed_payments) == 1


def test_clearance_confirms_and_a_later_flag_holds_with_reasons():
    order = new_order()
    order.record_payment(uuid4(), Decimal("100.00"), "card", "stripe")
    order.apply_clearance()
    assert order.status == CONFIRMED
    order.apply_flag(["duplicate payment"])
    assert order.status == ON_HOLD and order.status_reasons == ["duplicate payment"]
    version = order.version
    order.apply_clearance()  # a clearance never lifts a hold
    order.apply_flag(["duplicate payment"])  # the same finding again adds nothing
    assert order.status == ON_HOLD and order.version == version


def test_events_carry_trace_and_order_id():
    with trace(correlation_id="corr-1", causation_id="cause-1"):
        order = new_order()
    (placed,) = order.collect_events()
    assert placed.trace == {"correlation_id": "corr-1", "causation_id": "cause-1", "order_id": str(order.id)}

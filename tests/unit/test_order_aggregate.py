from decimal import Decimal
from uuid import uuid4

import pytest

from service_runtime.errors import DomainError
from service_runtime.tracing import trace
from service_runtime.idempotency import IdempotencyKeyReused
from services.orders.domain import CONFIRMED, ON_HOLD, UNDER_REVIEW, Order


def new_order() -> Order:
    quote = {"currency": "CNY", "lines": [], "total": Decimal("100.00"), "rules_version": "t"}
    return Order(customer_id="alice", destination_country="GB", lines=[], quote=quote)


def test_same_key_same_request_returns_first_payment_without_new_event():
    order = new_order()
    first = order.pay(uuid4(), Decimal("100.00"), "stripe", "pi_1", "key-1", "fp-a")
    version = order.version
    again = order.pay(uuid4(), Decimal("100.00"), "stripe", "pi_1", "key-1", "fp-a")
    assert again == first and order.version == version and order.status == UNDER_REVIEW


def test_same_key_different_request_is_refused():
    order = new_order()
    order.pay(uuid4(), Decimal("100.00"), "stripe", "pi_1", "key-1", "fp-a")
    with pytest.raises(IdempotencyKeyReused):
        order.pay(uuid4(), Decimal("100.00"), "paypal", "pi_1", "key-1", "fp-b")


def test_wrong_amount_is_refused():
    with pytest.raises(DomainError, match="does not match the order total"):
        new_order().pay(uuid4(), Decimal("99.99"), "stripe", "pi_1", "key-1", "fp")


def test_clearance_confirms_and_a_later_flag_holds_with_reasons():
    order = new_order()
    order.pay(uuid4(), Decimal("100.00"), "stripe", "pi_1", "key-1", "fp")
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

"""A higher new price's difference: orders bills it, payments takes it once, and only then does
the new price stand (PriceChangeAccepted, which reopens the purchase)."""

import uuid
from decimal import Decimal

from contracts.orders import PriceDifferenceBilled
from contracts.payments import PaymentSucceededV2
from contracts.purchasing import PriceChangeRequested
from services.orders.bootstrap import bootstrap as orders_bootstrap
from tests.apptest import ServiceHarness
from tests.unit.test_orders_app import ORDER, confirmed_payment
from tests.unit.test_payments_app import fake_stripe, payments  # noqa: F401 - fixtures
from tests.unit.test_shipping_bills import top_up


def test_a_higher_price_is_billed_and_stands_only_once_payments_confirms_it(tmp_path):
    orders = ServiceHarness(orders_bootstrap, tmp_path)
    alice = orders.as_("alice", "customer")
    order = orders.client.post("/orders", json=ORDER, headers=alice).json()
    orders.react(confirmed_payment(order))
    orders.react(PriceChangeRequested(task_id=uuid.uuid4(), order_id=order["order_id"], line_no=1, quantity=1,
                                      old_unit_price=Decimal("50.00"), new_unit_price=Decimal("56.00"),
                                      agent_id="agent-1"))
    typed = orders.client.post(f"/orders/{order['order_id']}/lines/1/decision", headers=alice, json={
        "choice": "accept_new_price", "payment": {"amount": "6.00", "method": "paypal", "provider_reference": "PAY-1"}})
    assert typed.status_code == 422  # a typed reference is no payment
    accepted = orders.client.post(f"/orders/{order['order_id']}/lines/1/decision", headers=alice,
                                  json={"choice": "accept_new_price"}).json()
    assert accepted["lines"][0]["status"] == "awaiting_price_difference_payment"
    assert accepted["lines"][0]["unit_price"] == "50.00" and accepted["pending_decisions"] == []
    [due] = accepted["price_differences_due"]
    assert due["amount"] == "6.00" and due["pay_at"] == f"/payments/orders/{order['order_id']}/lines/1/price-difference"
    [billed] = [e for e in orders.published() if e.type == "orders.PriceDifferenceBilled"]
    assert billed.payload["amount"] == "6.00" and billed.payload["customer_id"] == "alice"
    assert "orders.PriceChangeAccepted" not in orders.published_types()  # the purchase waits for the money

    paid = PaymentSucceededV2(payment_id=uuid.uuid4(), order_id=order["order_id"], customer_id="alice",
                              purpose="price_difference", amount=Decimal("6.00"), currency="CNY", method="balance",
                              provider="balance", reference=f"{order['order_id']}/lines/1")
    assert orders.react(paid) == "handled"
    orders.react(paid)  # redelivered: no second effect
    view = orders.client.get(f"/orders/{order['order_id']}", headers=alice).json()
    assert view["lines"][0]["unit_price"] == "56.00" and view["lines"][0]["status"] == "active"
    assert view["price_differences_due"] == []
    assert orders.published_types().count("orders.PriceChangeAccepted") == 1
    assert orders.published_types().count("orders.PaymentRecorded") == 1  # not a second order payment


def test_payments_learns_the_difference_once_and_takes_it_once(payments, fake_stripe):  # noqa: F811
    order_id = uuid.uuid4()
    billed = PriceDifferenceBilled(order_id=order_id, customer_id="alice", line_no=2, quantity=2,
                                   old_unit_price=Decimal("12.00"), new_unit_price=Decimal("15.00"),
                                   amount=Decimal("6.00"), currency="CNY")
    assert payments.react(billed) == "handled"
    assert payments.react(billed) == "handled"  # redelivered under another event id: one bill
    top_up(payments, fake_stripe, amount="10.00")
    path = f"/payments/orders/{order_id}/lines/2/price-difference"
    headers = {**payments.as_("alice", "customer"), "Idempotency-Key": "difference-0001"}
    assert payments.client.get(path, headers=payments.as_("bob", "customer")).status_code == 404
    first = payments.client.post(path, json={"method": "balance"}, headers=headers)
    assert first.status_code == 201 and first.json()["status"] == "succeeded" and first.json()["amount"] == "6.00"
    second = payments.client.post(path, json={"method": "balance"}, headers={**headers, "Idempotency-Key": "difference-0002"})
    assert second.status_code == 409
    [succeeded] = [e for e in payments.published() if e.type == "payments.PaymentSucceeded"
                   and e.payload["purpose"] == "price_difference"]
    assert succeeded.payload["reference"] == f"{order_id}/lines/2" and succeeded.payload["order_id"] == str(order_id)
    payments.project()
    ledger = payments.client.get("/me/ledger", headers=payments.as_("alice", "customer")).json()
    [debit] = [m for m in ledger["movements"] if m["kind"] == "price_difference_payment"]
    assert debit["amount"] == "6.00" and "(15.00 - 12.00) x 2" in debit["lines"][0]["label"]
    assert Decimal(ledger["balance"]) == Decimal("4.00")

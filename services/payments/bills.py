"""The bills payments keeps for what other services are owed (pure): a parcel's shipping bill,
an order line's price difference. Each is learned once from its owner's event, itemised, and
paid once: while one payment of a bill is pending or has succeeded, a second one is refused, so
a customer is never charged twice for the same thing (a failed payment may be retried)."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict
from service_runtime.tracing import TracedAggregate, stable_id
from services.payments.domain import PENDING, SUCCEEDED, PaymentIntent

# purpose -> (the balance debit's kind, how the customer reads it)
PURPOSES = {"shipping": ("shipping_payment", "shipping of parcel"),
            "price_difference": ("price_difference_payment", "price difference of order line")}


def charge_bill_id(purpose: str, reference: str) -> UUID:
    return stable_id("charge-bill", purpose, reference)


class Bill(TracedAggregate):
    """What the customer owes a service for one thing, line by line, as its owner published it."""

    @staticmethod
    def create_id(purpose: str, reference: str, **_: object) -> UUID:
        return charge_bill_id(purpose, reference)

    @event("Issued")
    def __init__(self, purpose: str, reference: str, customer_id: str, order_id: UUID | None, lines: list,
                 total: Decimal, currency: str) -> None:
        self.purpose, self.reference, self.customer_id, self.order_id = purpose, reference, customer_id, order_id
        self.lines = [dict(line) for line in lines]
        self.total, self.currency = total, currency
        self.payment_ids: list[str] = []

    @property
    def debit_kind(self) -> str:
        return PURPOSES[self.purpose][0]

    @property
    def description(self) -> str:
        return f"{PURPOSES[self.purpose][1]} {self.reference}"

    def start_payment(self, payment_id: UUID, earlier: Iterable[PaymentIntent]) -> None:
        """Record a payment attempt; refused while another is pending or once one succeeded."""
        refuse_second_payment(self, earlier)
        self._start(payment_id=payment_id)

    @event("PaymentStarted")
    def _start(self, payment_id: UUID) -> None:
        self.payment_ids.append(str(payment_id))


def refuse_second_payment(bill: Bill, earlier: Iterable[PaymentIntent]) -> None:
    for intent in earlier:
        if intent.status == SUCCEEDED and intent.failure is None:
            raise Conflict(f"the {bill.description} is already paid (payment {intent.id}); nothing was charged again")
        if intent.status == PENDING:
            raise Conflict(f"a payment of the {bill.description} is pending (payment {intent.id}); "
                           f"wait for its outcome before paying again")


def paid_by(earlier: Iterable[PaymentIntent]) -> PaymentIntent | None:
    return next((i for i in earlier if i.status == SUCCEEDED and i.failure is None), None)

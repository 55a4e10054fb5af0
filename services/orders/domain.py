"""The Order aggregate: placed with a quote, paid, then confirmed or held by fraud review."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict, DomainError
from service_runtime.idempotency import earlier_answer
from service_runtime.tracing import TracedAggregate

AWAITING_PAYMENT = "awaiting_payment"
UNDER_REVIEW = "under_review"
CONFIRMED = "confirmed"
ON_HOLD = "on_hold"


# What a customer may answer to each kind of question about a line.
CHOICES = {
    "price_change": ("accept_new_price", "cancel"),
    "out_of_stock": ("cancel",),
    "qc_failed": ("repurchase", "return_to_merchant", "refund"),
    "recalled": ("repurchase", "refund"),  # the item's batch was recalled before it shipped
}


class Order(TracedAggregate):
    id_is_order_id = True

    @event("Placed")
    def __init__(self, customer_id: str, destination_country: str, lines: list, quote: dict,
                 request_fingerprint: str | None = None) -> None:
        self.customer_id = customer_id
        self.request_fingerprint = request_fingerprint  # of the placing request, for its Idempotency-Key
        self.destination_country = destination_country
        self.lines = [dict(line) for line in lines]  # prices change later; the event stays as placed
        self.quote = quote
        self.status = AWAITING_PAYMENT
        self.status_reasons: list[str] = []
        self.payments: list[dict] = []
        self.pending: dict[int, dict] = {}  # line_no -> the question awaiting the customer
        self.cancelled_lines: list[int] = []
        self.refunds: list[dict] = []

    @classmethod
    def place(cls, order_id: UUID | None, customer_id: str, destination_country: str, lines: list, quote: dict,
              request_fingerprint: str | None = None) -> "Order":
        """A new order; its id is derived from the request's Idempotency-Key when there is one."""
        return cls._create(cls.Placed, id=order_id, customer_id=customer_id, destination_country=destination_country,
                           lines=lines, quote=quote, request_fingerprint=request_fingerprint)

    @property
    def total(self) -> Decimal:
        return self.quote["total"]

    def payment_for_key(self, idempotency_key: str) -> dict | None:
        return next((p for p in self.payments if p["idempotency_key"] == idempotency_key), None)

    def pay(self, payment_id: UUID, amount: Decimal, method: str, provider_reference: str,
            idempotency_key: str, fingerprint: str) -> dict:
        """Record a payment; the same key with the same request returns the first payment."""
        earlier = earlier_answer(self.payment_for_key(idempotency_key), fingerprint)
        if earlier is not None:
            return earlier
        if amount != self.total:
            raise DomainError(f"payment amount {amount} CNY does not match the order total {self.total} CNY")
        self._record_payment(payment_id, amount, "CNY", method, provider_reference, idempotency_key, fingerprint)
        return self.payments[-1]

    @event("PaymentRecorded")
    def _record_payment(self, payment_id: UUID, amount: Decimal, currency: str, method: str,
                        provider_reference: str, idempotency_key: str, fingerprint: str) -> None:
        self.payments.append({
            "payment_id": payment_id, "amount": amount, "currency": currency, "method": method,
            "provider_reference": provider_reference, "idempotency_key": idempotency_key,
            "fingerprint": fingerprint,
        })
        if self.status == AWAITING_PAYMENT:
            self.status = UNDER_REVIEW

    def apply_clearance(self) -> None:
        """Fraud review found nothing: confirm, unless the order is already held or confirmed."""
        if self.status == UNDER_REVIEW:
            self._confirm()

    def apply_flag(self, reasons: list[str]) -> None:
        if self.status == AWAITING_PAYMENT:
            raise Conflict("an unpaid order cannot be put on hold by payment review")
        if self.status != ON_HOLD or set(reasons) - set(self.status_reasons):
            self._hold(reasons)

    @event("Confirmed")
    def _confirm(self) -> None:
        self.status = CONFIRMED
        self.status_reasons = []

    @event("Held")
    def _hold(self, reasons: list[str]) -> None:
        self.status = ON_HOLD
        self.status_reasons = list(reasons)

    # Questions for the customer about a line, and their answers ---------------------------

    def line(self, line_no: int) -> dict:
        for line in self.lines:
            if line["line_no"] == line_no:
                return line
        raise DomainError(f"order {self.id} has no line {line_no}")

    def ask_customer(self, line_no: int, kind: str, details: dict) -> None:
        """Record a question (new price, out of stock, failed inspection); the same one twice adds nothing."""
        self.line(line_no)
        if line_no in self.cancelled_lines:
            return
        if self.pending.get(line_no) == {"kind": kind, "details": details}:
            return
        self._ask(line_no, kind, details)

    @event("CustomerDecisionRequested")
    def _ask(self, line_no: int, kind: str, details: dict) -> None:
        self.pending[line_no] = {"kind": kind, "details": details}

    def question_for(self, line_no: int, choice: str) -> dict:
        question = self.pending.get(line_no)
        if question is None:
            raise Conflict(f"no decision is pending for line {line_no}")
        allowed = CHOICES[question["kind"]]
        if choice not in allowed:
            raise DomainError(f"for a {question['kind'].replace('_', ' ')} the choices are {', '.join(allowed)}")
        return question

    @event("PriceChangeAccepted")
    def accept_price(self, line_no: int, new_unit_price: Decimal, price_difference: Decimal,
                     payment: dict | None) -> None:
        self.pending.pop(line_no, None)
        self.line(line_no)["unit_price"] = new_unit_price
        if payment:
            self.payments.append(payment)

    @event("LineCancelled")
    def cancel_line(self, line_no: int, reason: str) -> None:
        self.pending.pop(line_no, None)
        self.cancelled_lines.append(line_no)

    @event("QcResolutionChosen")
    def resolve_qc(self, line_no: int, traceability_code: str, choice: str) -> None:
        self.pending.pop(line_no, None)

    @event("RefundIssued")
    def refund(self, refund_id: UUID, amount: Decimal, currency: str, reason: str, line_no: int | None) -> None:
        self.refunds.append({"refund_id": refund_id, "amount": amount, "currency": currency,
                             "reason": reason, "line_no": line_no})

"""The Order aggregate: placed with a quote, paid, then confirmed or held by fraud review."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict, DomainError
from service_runtime.tracing import TracedAggregate

AWAITING_PAYMENT = "awaiting_payment"
UNDER_REVIEW = "under_review"
CONFIRMED = "confirmed"
ON_HOLD = "on_hold"
CANCELLED = "cancelled"


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
        self.failed_payments: dict[UUID, str] = {}  # payment id -> why the provider refused it

    @classmethod
    def place(cls, order_id: UUID | None, customer_id: str, destination_country: str, lines: list, quote: dict,
              request_fingerprint: str | None = None) -> "Order":
        """A new order; its id is derived from the request's Idempotency-Key when there is one."""
        return cls._create(cls.Placed, id=order_id, customer_id=customer_id, destination_country=destination_country,
                           lines=lines, quote=quote, request_fingerprint=request_fingerprint)

    @property
    def total(self) -> Decimal:
        return self.quote["total"]

    def record_payment(self, payment_id: UUID, amount: Decimal, method: str, provider: str) -> bool:
        """A payment the payments service saw confirmed (by the provider's webhook or the
        balance); the same payment twice records nothing. Never the customer's word."""
        if any(str(p["payment_id"]) == str(payment_id) for p in self.payments):
            return False
        self._record_payment(payment_id, amount, "CNY", method, provider, None, None)
        return True

    def note_failed_payment(self, payment_id: UUID, reason: str) -> None:
        if payment_id not in self.failed_payments:
            self._payment_failed(payment_id, reason)

    @event("PaymentFailed")
    def _payment_failed(self, payment_id: UUID, reason: str) -> None:
        self.failed_payments[payment_id] = reason

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

    def release(self, refund_id: UUID) -> None:
        """A risk analyst released the hold: the order proceeds; a second payment goes back."""
        if self.status != ON_HOLD:
            return
        # A higher price's difference was paid on purpose: only what exceeds that is a second payment.
        excess = (sum((Decimal(p["amount"]) for p in self.payments), Decimal(0)) - self.total
                  - max(self.price_adjustment, Decimal(0)))
        if excess > 0:
            self.refund(refund_id=refund_id, amount=excess, currency="CNY",
                        reason="paid more than once: the extra payment goes back", line_no=None)
        self._confirm()

    @property
    def price_adjustment(self) -> Decimal:
        """The accepted new prices' differences: paid (positive) or refunded (negative)."""
        return getattr(self, "_price_adjustment", Decimal(0))

    @property
    def goods_total(self) -> Decimal:
        """What the order costs now: the quote with the accepted price differences."""
        return self.total + self.price_adjustment

    @property
    def refundable(self) -> Decimal:
        return (sum((Decimal(p["amount"]) for p in self.payments), Decimal(0))
                - sum((Decimal(r["amount"]) for r in self.refunds), Decimal(0)))

    def cancel_after_review(self, reason: str, refund_id: UUID) -> None:
        """A risk analyst cancelled the held order: every line is cancelled, all money paid goes back."""
        if self.status == CANCELLED:
            return
        for line in self.lines:
            if line["line_no"] not in self.cancelled_lines:
                self.cancel_line(line_no=line["line_no"], reason=reason)
        if self.refundable > 0:
            self.refund(refund_id=refund_id, amount=self.refundable, currency="CNY", reason=reason, line_no=None)
        self._cancel_order(reason)

    @event("Cancelled")
    def _cancel_order(self, reason: str) -> None:
        self.status = CANCELLED
        self.status_reasons = [reason]

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

    def bill_difference(self, line_no: int, details: dict, difference: Decimal) -> None:
        """A higher new price accepted: the difference is billed at payments; the new price (and
        the purchase) stand once payments confirms it (`settle_difference`)."""
        self._bill_difference(order_id=self.id, customer_id=self.customer_id, line_no=line_no,
                              task_id=details["task_id"], quantity=int(details["quantity"]),
                              old_unit_price=Decimal(details["old_unit_price"]),
                              new_unit_price=Decimal(details["new_unit_price"]), amount=difference, currency="CNY")

    @event("PriceDifferenceBilled")
    def _bill_difference(self, order_id: UUID, customer_id: str, line_no: int, task_id: str, quantity: int,
                         old_unit_price: Decimal, new_unit_price: Decimal, amount: Decimal, currency: str) -> None:
        self.pending.pop(line_no, None)
        self.differences_due = {**getattr(self, "differences_due", {}), line_no: {
            "line_no": line_no, "amount": amount, "currency": currency, "new_unit_price": new_unit_price,
            "pay_at": f"/payments/orders/{order_id}/lines/{line_no}/price-difference"}}

    def settle_difference(self, line_no: int, payment_id: UUID, amount: Decimal, method: str, provider: str) -> bool:
        """Payments confirmed a line's price difference: the new price stands. False for a redelivery."""
        due = getattr(self, "differences_due", {}).get(line_no)
        if due is None:
            return False
        if amount != due["amount"]:
            raise Conflict(f"payment {payment_id} of {amount} CNY does not settle line {line_no}'s "
                           f"difference of {due['amount']} CNY")
        self.accept_price(line_no=line_no, new_unit_price=due["new_unit_price"], price_difference=amount, payment={
            "payment_id": payment_id, "amount": amount, "currency": "CNY", "method": method,
            "provider_reference": provider, "idempotency_key": None, "fingerprint": None})
        return True

    @event("PriceChangeAccepted")
    def accept_price(self, line_no: int, new_unit_price: Decimal, price_difference: Decimal,
                     payment: dict | None) -> None:
        self.pending.pop(line_no, None)
        getattr(self, "differences_due", {}).pop(line_no, None)
        self.line(line_no)["unit_price"] = new_unit_price
        self._price_adjustment = self.price_adjustment + Decimal(price_difference)
        if payment:
            self.payments.append(payment)

    @event("LineCancelled")
    def cancel_line(self, line_no: int, reason: str) -> None:
        self.pending.pop(line_no, None)
        self.cancelled_lines.append(line_no)

    @event("QcResolutionChosen")
    def resolve_qc(self, line_no: int, traceability_code: str, choice: str) -> None:
        self.pending.pop(line_no, None)

    # Screening holds: a line a reviewing rule matched waits for a compliance analyst ----------

    @property
    def screening_holds(self) -> dict[int, dict]:
        """Held lines (line_no -> the hold, with its decision once decided)."""
        return getattr(self, "_screening_holds", {})

    def under_review(self, line_no: int) -> bool:
        hold = self.screening_holds.get(line_no)
        return hold is not None and hold.get("approved") is None

    @event("LineHeldForScreening")
    def hold_for_screening(self, customer_id: str, line_no: int, rule: str, kind: str, reason: str,
                           reason_zh: str, matched: str, rules_version: str) -> None:
        self._screening_holds = {**self.screening_holds, line_no: {
            "rule": rule, "kind": kind, "reason": reason, "reason_zh": reason_zh, "matched": matched,
            "rules_version": rules_version, "approved": None}}

    def decide_screening_hold(self, line_no: int, approved: bool, reason: str, rules_version: str) -> None:
        if not self.under_review(line_no):
            raise Conflict(f"line {line_no} of order {self.id} is not waiting for a compliance review")
        if self.status == AWAITING_PAYMENT:
            raise Conflict(f"order {self.id} is not paid yet: a held line is decided once the order is paid")
        self._screening_decided(customer_id=self.customer_id, line_no=line_no,
                                rule=self.screening_holds[line_no]["rule"], approved=approved, reason=reason,
                                rules_version=rules_version)

    @event("ScreeningHoldDecided")
    def _screening_decided(self, customer_id: str, line_no: int, rule: str, approved: bool, reason: str,
                           rules_version: str) -> None:
        hold = {**self.screening_holds[line_no], "approved": approved, "decision_reason": reason}
        self._screening_holds = {**self.screening_holds, line_no: hold}

    @event("RefundIssued")
    def refund(self, refund_id: UUID, amount: Decimal, currency: str, reason: str, line_no: int | None) -> None:
        self.refunds.append({"refund_id": refund_id, "amount": amount, "currency": currency,
                             "reason": reason, "line_no": line_no})

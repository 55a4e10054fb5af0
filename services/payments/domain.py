"""Payments aggregates (pure): a payment intent per charge, the customer's account (balance), and
the bill payments keeps per order so it knows what an order costs without asking orders.

Money is CNY with two decimals. The balance can never go negative: a debit larger than the
balance is refused. Every movement has an id, so a redelivered refund or compensation credits once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict, DomainError
from service_runtime.tracing import TracedAggregate, stable_id
from services.payments.deadlines import NEVER_APPROVED, NEVER_SUBMITTED, SUBMISSION_GRACE

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


def account_id(customer_id: str) -> UUID:
    return stable_id("account", customer_id)


def bill_id(order_id: UUID) -> UUID:
    return stable_id("bill", order_id)


class InsufficientBalance(DomainError):
    status = 402
    title = "Payment Required"


class OrderBill(TracedAggregate):
    """What an order costs, as orders published it when the order was placed."""

    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return bill_id(order_id)

    @event("Opened")
    def __init__(self, order_id: UUID, customer_id: str, amount: Decimal, currency: str) -> None:
        self.order_id, self.customer_id = order_id, customer_id
        self.amount, self.currency = amount, currency


class SurchargeRefunds(TracedAggregate):
    """The surcharges an order's payments carried, and what refunds gave back of them."""

    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return stable_id("surcharge-refunds", order_id)

    @event("Opened")
    def __init__(self, order_id: UUID) -> None:
        self.order_id = order_id
        self.paid = Decimal("0.00")  # what the surcharged payments paid for the order, surcharge aside
        self.surcharge = Decimal("0.00")
        self.refunded = Decimal("0.00")
        self.returned = Decimal("0.00")
        self.seen: set[str] = set()

    def note_payment(self, payment_id: UUID, amount: Decimal, surcharge: Decimal) -> None:
        if str(payment_id) not in self.seen and surcharge > 0:
            self._note_payment(payment_id, amount, surcharge)

    @event("PaymentNoted")
    def _note_payment(self, payment_id: UUID, amount: Decimal, surcharge: Decimal) -> None:
        self.seen.add(str(payment_id))
        self.paid += amount
        self.surcharge += surcharge

    def note_refund(self, refund_id: UUID, refund: Decimal, returned: Decimal) -> None:
        if str(refund_id) not in self.seen:
            self._note_refund(refund_id, refund, returned)

    @event("RefundNoted")
    def _note_refund(self, refund_id: UUID, refund: Decimal, returned: Decimal) -> None:
        self.seen.add(str(refund_id))
        self.refunded += refund
        self.returned += returned


class PaymentIntent(TracedAggregate):
    """One attempt to take money: pending until the provider (or the balance) confirms it."""

    @staticmethod
    def create_id(payment_id: UUID) -> UUID:
        return payment_id

    @event("Created")
    def __init__(self, payment_id: UUID, customer_id: str, purpose: str, order_id: UUID | None, amount: Decimal,
                 currency: str, method: str, provider: str, fingerprint: str, reference: str | None = None,
                 lines: list | None = None, surcharge: Decimal = Decimal("0.00"),
                 surcharge_version: str | None = None) -> None:
        self.payment_id, self.fingerprint = payment_id, fingerprint
        self.reference = reference or (str(order_id) if order_id else None)  # what is paid: order, parcel, line
        self.lines = [dict(line) for line in lines or []]  # the bill's itemised lines
        self.customer_id, self.purpose, self.order_id = customer_id, purpose, order_id
        self.amount, self.currency, self.method, self.provider = amount, currency, method, provider
        # The payment method's published surcharge (services/payments/surcharges.py), charged on top.
        self.surcharge, self.surcharge_version = surcharge, surcharge_version
        self.payer_action_url: str | None = None
        self.pending_capture: str | None = None  # a capture taken but not settled (PayPal's PENDING)
        self.status = PENDING
        self.provider_ref: str | None = None
        self.failure: str | None = None
        self.refunded = Decimal("0.00")
        self.refunds: dict[str, dict] = {}  # refund id -> amount and the provider's reference

    def submitted(self, provider_ref: str, payer_action_url: str | None = None,
                  card_fingerprint: str | None = None) -> None:
        """The provider accepted the request; its answer is not the confirmation."""
        if self.provider_ref is None:
            self._submit(provider_ref, payer_action_url, card_fingerprint)

    @event("Submitted")
    def _submit(self, provider_ref: str, payer_action_url: str | None = None,
                card_fingerprint: str | None = None) -> None:
        self.provider_ref = provider_ref
        self.payer_action_url = payer_action_url
        self.card_fingerprint = card_fingerprint  # the card's hash, for the velocity rules; never card data

    def abandoned_before_submission(self, now: datetime) -> bool:
        """Saved, and no provider has heard of it for longer than the request saving it can take:
        its process died before asking, or before saving the answer. A repeat of the request asks
        (again); the provider's idempotency key is the payment's, so a charge that got through is
        not doubled. Within the grace the first request may still be asking: a repeat must wait,
        since a provider answers a second request with the same key while the first is in
        flight with an error, which would read as a refusal."""
        if not self.awaiting_submission:
            return False
        if now - self.created_on < SUBMISSION_GRACE:
            raise Conflict("this payment is still being submitted to the provider; repeat the request "
                           "(with the same Idempotency-Key) in a few seconds")
        return True

    @property
    def awaiting_submission(self) -> bool:
        """Pending, for a provider that has not heard of it yet."""
        return self.status == PENDING and self.provider_ref is None and self.provider != "balance"

    @property
    def awaiting_payer(self) -> bool:
        """Pending at a provider where the payer approves it and the platform captures it, and not
        captured yet."""
        return (self.status == PENDING and self.provider_ref is not None and self.payer_action_url is not None
                and self.pending_capture is None)

    def note_capture_pending(self, capture_id: str) -> None:
        """The capture was taken but not settled (PayPal's PENDING): only the provider decides now."""
        if self.status == PENDING and self.pending_capture is None:
            self._capture_pending(capture_id=capture_id)

    @event("CapturePending")
    def _capture_pending(self, capture_id: str) -> None:
        self.pending_capture = capture_id

    def give_up_at_deadline(self) -> bool:
        """At its deadline (`deadline_for`), fail a payment that no provider heard of or that its
        payer never approved; one the provider is deciding on (a card charge it was sent, a
        capture it has not settled) is left to the provider's webhook."""
        if self.awaiting_submission:
            return self.fail(NEVER_SUBMITTED)
        return self.awaiting_payer and self.fail(NEVER_APPROVED)

    @property
    def charged(self) -> Decimal:
        """What the provider takes from the customer: the amount and the method's surcharge."""
        return self.amount + getattr(self, "surcharge", Decimal("0.00"))

    def charge_surcharge(self) -> None:
        """The surcharge line, once, when the provider confirms the money."""
        if getattr(self, "surcharge", Decimal(0)) > 0 and not getattr(self, "surcharge_charged", False):
            self._charge_surcharge(payment_id=self.id, order_id=self.order_id, customer_id=self.customer_id,
                                   purpose=self.purpose, amount=self.surcharge, currency=self.currency,
                                   method=self.method, provider=self.provider, rule_version=self.surcharge_version)

    @event("SurchargeCharged")
    def _charge_surcharge(self, payment_id: UUID, order_id: UUID | None, customer_id: str, purpose: str,
                          amount: Decimal, currency: str, method: str, provider: str,
                          rule_version: str | None) -> None:
        self.surcharge_charged = True

    def facts(self) -> dict:
        """What a published outcome says about the payment (events carry their contract's fields)."""
        return {"payment_id": self.id, "order_id": self.order_id, "customer_id": self.customer_id,
                "purpose": self.purpose, "amount": self.amount, "currency": self.currency,
                "method": self.method, "provider": self.provider,
                "reference": getattr(self, "reference", None), "lines": getattr(self, "lines", []),
                "card_fingerprint": getattr(self, "card_fingerprint", None)}

    def confirm(self, provider_ref: str | None) -> str | None:
        """The provider confirmed: "on_time", or "late" after we had reported a failure (a
        timeout); None for a replay, which has no second effect."""
        if self.status == SUCCEEDED:
            return None
        if self.status == FAILED:
            self._confirm_late(provider_ref or self.provider_ref)
            self.charge_surcharge()
            return "late"
        self._succeed(**self.facts(), provider_ref=provider_ref or self.provider_ref)
        self.charge_surcharge()
        return "on_time"

    @event("Succeeded")
    def _succeed(self, payment_id: UUID, order_id: UUID | None, customer_id: str, purpose: str, amount: Decimal,
                 currency: str, method: str, provider: str, provider_ref: str | None, reference: str | None = None,
                 lines: list | None = None, card_fingerprint: str | None = None) -> None:
        self.status, self.provider_ref = SUCCEEDED, provider_ref

    @event("ConfirmedLate")
    def _confirm_late(self, provider_ref: str | None) -> None:
        """The provider took the money after we told the customer it failed (a timeout): it is
        not lost, it goes to the balance."""
        self.status, self.provider_ref = SUCCEEDED, provider_ref

    def fail(self, reason: str) -> bool:
        if self.status != PENDING:
            return False
        self._fail(**self.facts(), reason=reason)
        return True

    @event("Failed")
    def _fail(self, payment_id: UUID, order_id: UUID | None, customer_id: str, purpose: str, amount: Decimal,
              currency: str, method: str, provider: str, reason: str, reference: str | None = None,
              lines: list | None = None, card_fingerprint: str | None = None) -> None:
        self.status, self.failure = FAILED, reason

    def refundable(self) -> Decimal:
        return self.charged - self.refunded if self.status == SUCCEEDED and self.method != "balance" else Decimal(0)

    @event("Refunded")
    def refund(self, refund_id: UUID, amount: Decimal, provider_refund_ref: str) -> None:
        self.refunded += amount
        self.refunds[str(refund_id)] = {"amount": amount, "provider_refund": provider_refund_ref}


class Account(TracedAggregate):
    """A customer's balance. Credits and debits are idempotent by movement id."""

    @staticmethod
    def create_id(customer_id: str) -> UUID:
        return account_id(customer_id)

    @event("Opened")
    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self.balance = Decimal("0.00")
        self.movement_ids: set[str] = set()

    def has(self, movement_id: UUID) -> bool:
        return str(movement_id) in self.movement_ids

    def credit(self, movement_id: UUID, kind: str, amount: Decimal, reason: str,
               order_id: UUID | None = None, rule_version: str | None = None) -> bool:
        if amount <= 0:
            raise DomainError("a credit must be a positive amount")
        if self.has(movement_id):
            return False
        self._credit(self.customer_id, movement_id, kind, amount, "CNY", reason, order_id, rule_version, self.balance + amount)
        return True

    def debit(self, movement_id: UUID, kind: str, amount: Decimal, reason: str,
              order_id: UUID | None = None, lines: list | None = None) -> bool:
        if amount <= 0:
            raise DomainError("a debit must be a positive amount")
        if self.has(movement_id):
            return False
        if amount > self.balance:
            raise InsufficientBalance(f"your balance is {self.balance} CNY; {amount} CNY is needed")
        self._debit(self.customer_id, movement_id, kind, amount, "CNY", reason, order_id, None, self.balance - amount,
                    lines or [])
        return True

    @event("Credited")
    def _credit(self, customer_id: str, movement_id: UUID, kind: str, amount: Decimal, currency: str, reason: str,
                order_id: UUID | None, rule_version: str | None, balance_after: Decimal) -> None:
        self.movement_ids.add(str(movement_id))
        self.balance = balance_after

    @event("Debited")
    def _debit(self, customer_id: str, movement_id: UUID, kind: str, amount: Decimal, currency: str, reason: str,
               order_id: UUID | None, rule_version: str | None, balance_after: Decimal, lines: list | None = None) -> None:
        if balance_after < 0:
            raise Conflict("the balance can never go negative")
        self.movement_ids.add(str(movement_id))
        self.balance = balance_after

"""Payments application: charge through a provider or the balance, learn the outcome from the
provider's signed webhook, and move the customer's balance with a reason for every movement."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping
from uuid import UUID

from contracts.claims import CompensationDecidedV3, CounterfeitConfirmed
from contracts.orders import OrderPlaced, RefundIssued
from service_runtime import timers
from service_runtime.auth import AUDITOR, RISK_ANALYST, SUPPORT_AGENT, Caller
from service_runtime.errors import Conflict, DomainError, NotFound
from service_runtime.idempotency import earlier_answer
from service_runtime.requests import fingerprint
from service_runtime.store import ServiceApplication
from service_runtime.tracing import stable_id
from services.payments.approvals import PayerApprovalAndSurcharges
from services.payments.bill_payments import BillPayments
from services.payments.deadlines import deadline_for
from services.payments.domain import (FAILED, Account, InsufficientBalance, OrderBill, PaymentIntent, account_id,
                                      bill_id)
from services.payments.providers import (PaymentProvider, PaymentRefused, ProviderError, WebhookEvent,
                                         recorded_failure, submission)
from services.payments.surcharges import SURCHARGE_VERSION, surcharge_for

STAFF_WHO_READ_PAYMENTS = (SUPPORT_AGENT, RISK_ANALYST, AUDITOR)
PAYMENT_DEADLINE = "payment.deadline"  # the purpose of the timer of `_deadline`


class PaymentsApplication(BillPayments, PayerApprovalAndSurcharges, ServiceApplication):
    name = "payments"
    providers: Mapping[str, PaymentProvider] = {}

    # Paying -----------------------------------------------------------------------------

    def pay_order(self, caller: Caller, order_id: UUID, method: str, token: str | None, key: str) -> PaymentIntent:
        bill = self.find(bill_id(order_id), OrderBill)
        if bill is None or bill.customer_id != caller.subject:
            raise NotFound(f"order {order_id} not found (a just-placed order reaches payments within moments)")
        payment_id = stable_id("payment", order_id, key)
        request = fingerprint({"order_id": order_id, "method": method, "token": token})
        if method == "balance":
            return self._pay_from_balance(payment_id, caller.subject, bill, request)
        return self._charge(payment_id, caller.subject, "order", order_id, bill.amount, method, token, request)

    def top_up(self, caller: Caller, amount: Decimal, method: str, token: str, key: str) -> PaymentIntent:
        payment_id = stable_id("top-up", caller.subject, key)
        request = fingerprint({"amount": amount, "method": method, "token": token})
        return self._charge(payment_id, caller.subject, "top_up", None, amount, method, token, request)

    def _pay_from_balance(self, payment_id: UUID, customer_id: str, bill: OrderBill, request: str) -> PaymentIntent:
        def attempt():
            earlier = self.earlier(payment_id, request)
            if earlier is not None:
                return [], earlier
            account = self.account(customer_id)
            intent = PaymentIntent(payment_id=payment_id, customer_id=customer_id, purpose="order", order_id=bill.order_id,
                                   amount=bill.amount, currency="CNY", method="balance", provider="balance",
                                   fingerprint=request)
            account.debit(payment_id, "order_payment", bill.amount, "payment of the order", bill.order_id)
            intent.confirm(None)
            return [intent, account], intent

        return self.save_with_retry(attempt)

    def _charge(self, payment_id: UUID, customer_id: str, purpose: str, order_id: UUID | None,
                amount: Decimal, method: str, token: str | None, request: str) -> PaymentIntent:
        provider = self.provider_for(method)
        if not token and not provider.payer_approves:
            raise DomainError(f"paying by {method} needs the provider's payment token (never card data)")
        intent = self.earlier(payment_id, request)
        if intent is not None:  # the same Idempotency-Key: the first answer, no second charge
            if intent.status == FAILED:
                raise PaymentRefused(recorded_failure(intent.failure or ""), payment_id)
            if intent.abandoned_before_submission(self.clock.now()):
                return self._submit(intent, provider, token)
            return intent
        intent = PaymentIntent(payment_id=payment_id, customer_id=customer_id, purpose=purpose, order_id=order_id,
                               amount=amount, currency="CNY", method=method, provider=provider.name,
                               fingerprint=request, surcharge=surcharge_for(method, amount),
                               surcharge_version=SURCHARGE_VERSION)
        # Pending, before the provider hears of it (a webhook always finds it), with its deadline.
        self.save(intent, self._deadline(intent, provider))
        return self._submit(intent, provider, token)

    def _deadline(self, intent: PaymentIntent, provider: PaymentProvider) -> timers.Timer:
        """The timer that gives the new payment up if it still waits for us or its payer by then
        (`deadline_for`). Its id comes from the payment's, so it is new too: nothing to look up."""
        return timers.Timer(purpose=PAYMENT_DEADLINE, subject=str(intent.id), data={}, order_id=intent.order_id,
                            due_at=self.clock.now() + deadline_for(provider.payer_approves))

    def on_payment_deadline(self, timer: timers.Timer, _now: datetime) -> list[PaymentIntent]:
        intent = self.find(UUID(timer.subject), PaymentIntent)
        return [intent] if intent is not None and intent.give_up_at_deadline() else []

    def _submit(self, intent: PaymentIntent, provider: PaymentProvider, token: str) -> PaymentIntent:
        """Ask the provider to charge a saved, pending intent; its webhook confirms it later."""
        try:
            answer = submission(provider.charge(intent.id, intent.charged, "CNY", token, intent.customer_id))
        except ProviderError as error:
            self._change(intent.id, lambda i: i.fail(f"{error.kind}: {error}"), latest=intent)
            raise PaymentRefused(error, intent.id) from None
        return self._change(intent.id, lambda i: i.submitted(answer.reference, answer.payer_action_url,
                                                             answer.card_fingerprint), latest=intent)

    def earlier(self, payment_id: UUID, request: str) -> PaymentIntent | None:
        """The payment made with this Idempotency-Key, if the request is the same (else a 422)."""
        intent = self.find(payment_id, PaymentIntent)
        if intent is not None:
            earlier_answer({"fingerprint": intent.fingerprint}, request)
        return intent

    def provider_for(self, method: str) -> PaymentProvider:
        provider = self.providers.get(method)
        if provider is None:
            raise DomainError(f"payment method '{method}' is not available; methods: "
                              f"{', '.join(sorted(self.providers)) or 'none'}, balance")
        return provider

    def _change(self, payment_id: UUID, change, latest: PaymentIntent | None = None) -> PaymentIntent:
        """`latest`: the intent as this request saved or loaded it, tried first without a read; a
        webhook that changed it meanwhile fails that save on its version, and it is read again."""
        in_hand = [latest] if latest is not None else []

        def attempt():
            intent = in_hand.pop() if in_hand else self.repository.get(payment_id)
            change(intent)
            return [intent], intent

        return self.save_with_retry(attempt)

    # What the provider says --------------------------------------------------------------

    def on_webhook(self, event: WebhookEvent) -> str:
        """Apply a verified provider event once; a replay or an unknown payment changes nothing."""
        if event.outcome == "ignored" or event.payment_id is None:
            return "ignored"

        def attempt():
            intent = self.find(event.payment_id, PaymentIntent)
            if intent is None:
                raise NotFound(f"no payment {event.payment_id}")
            if event.outcome == "failed":
                return [intent], "applied" if intent.fail(f"declined: {event.reason}") else "duplicate"
            outcome = intent.confirm(event.provider_ref)
            if outcome is None:
                return [], "duplicate"
            changed = [intent]
            if outcome == "late" or intent.purpose == "top_up":
                account = self.account(intent.customer_id)
                kind, reason = (("late_confirmation", "the provider confirmed a payment reported as failed")
                                if outcome == "late" else ("top_up", "top-up"))
                account.credit(intent.id, kind, intent.charged if outcome == "late" else intent.amount, reason,
                               intent.order_id)
                changed.append(account)
            return changed + self._note_surcharge(intent, outcome), "applied"

        return self.save_with_retry(attempt)

    # The balance -------------------------------------------------------------------------

    def account(self, customer_id: str) -> Account:
        return self.find(account_id(customer_id), Account) or Account(customer_id=customer_id)

    def balance(self, customer_id: str) -> Decimal:
        return self.account(customer_id).balance

    def withdraw(self, caller: Caller, amount: Decimal, key: str) -> dict[str, Any]:
        """Back to the original card: debit first (so two withdrawals cannot both spend the same
        money), then refund at the provider; if the provider refuses, the debit is reversed."""
        movement_id = stable_id("withdrawal", caller.subject, key)
        if self.account(caller.subject).has(movement_id):  # the same Idempotency-Key: the first answer
            return self._withdrawal(caller.subject, movement_id)
        if amount > self.balance(caller.subject):
            raise InsufficientBalance(f"your balance is {self.balance(caller.subject)} CNY; "
                                      f"{amount} CNY cannot be withdrawn")
        sources = self.refundable_payments(caller.subject, amount)

        def debit():
            account = self.account(caller.subject)
            account.debit(movement_id, "withdrawal", amount, "withdrawal to the original payment method")
            return [account], account

        self.save_with_retry(debit)
        refunds = []
        try:
            left = amount
            for intent in sources:
                part = min(left, intent.refundable())
                refund_id = stable_id("refund", movement_id, intent.id)
                reference = self.provider_for(intent.method).refund(refund_id, intent.provider_ref, part)
                self._change(intent.id, lambda i: i.refund(refund_id=refund_id, amount=part,
                                                           provider_refund_ref=reference))
                refunds.append({"amount": part})
                left -= part
        except ProviderError as error:
            given_back = amount - sum((r["amount"] for r in refunds), Decimal(0))

            def reverse():
                account = self.account(caller.subject)
                account.credit(stable_id("withdrawal-reversed", movement_id), "withdrawal_reversed", given_back,
                               f"the provider refused the withdrawal: {error}")
                return [account], None

            self.save_with_retry(reverse)
            raise PaymentRefused(error, movement_id) from None
        return self._withdrawal(caller.subject, movement_id)

    def _withdrawal(self, customer_id: str, movement_id: UUID) -> dict[str, Any]:
        """A withdrawal as the provider's refunds record it."""
        refunds = []
        for payment_id in self.payments_of(customer_id):
            intent = self.repository.get(payment_id)
            refund = intent.refunds.get(str(stable_id("refund", movement_id, payment_id)))
            if refund:
                refunds.append({"payment_id": payment_id, **refund})
        return {"withdrawal_id": movement_id, "amount": sum((r["amount"] for r in refunds), Decimal(0)),
                "refunds": refunds, "balance": self.balance(customer_id)}

    def refundable_payments(self, customer_id: str, amount: Decimal) -> list[PaymentIntent]:
        """The customer's provider payments that can take the amount back, newest first."""
        intents = [self.repository.get(payment_id) for payment_id in self.payments_of(customer_id)]
        sources = [i for i in reversed(intents) if i.refundable() > 0]
        if sum((i.refundable() for i in sources), Decimal(0)) < amount:
            raise Conflict("more than was ever paid by card cannot go back to a card")
        chosen, total = [], Decimal(0)
        for intent in sources:
            if total >= amount:
                break
            chosen.append(intent)
            total += intent.refundable()
        return chosen

    def payments_of(self, customer_id: str) -> list[UUID]:
        return self.originators_of(PaymentIntent.Created, customer_id=customer_id)

    def payment_for(self, caller: Caller, payment_id: UUID) -> PaymentIntent:
        intent = self.find(payment_id, PaymentIntent)
        if intent is None or not caller.can_read_customer_data(intent.customer_id, *STAFF_WHO_READ_PAYMENTS):
            raise NotFound(f"payment {payment_id} not found")
        return intent

    # Reactions: what orders costs, and money that comes back -----------------------------

    def on_order_placed(self, payload: OrderPlaced, _envelope: Any) -> list[OrderBill]:
        if bill_id(payload.order_id) in self.repository:
            return []
        return [OrderBill(order_id=payload.order_id, customer_id=payload.customer_id,
                          amount=payload.quote.total, currency=payload.quote.currency)]

    def on_refund_issued(self, payload: RefundIssued, _envelope: Any) -> list[Any]:
        bill = self.repository.get(bill_id(payload.order_id))
        credited = self._credit(bill.customer_id, payload.refund_id, "refund", payload.amount,
                                payload.reason, payload.order_id, None)
        return self._return_surcharge(bill.customer_id, payload.order_id, payload.refund_id, payload.amount,
                                      credited)

    def on_compensation_decided(self, payload: CompensationDecidedV3, _envelope: Any) -> list[Account]:
        # Only these fields: claim_id, customer_id, order_ids, approved, amount, currency, rule_version, kind.
        if not payload.approved or payload.amount <= 0:
            return []
        order_id = payload.order_ids[0] if payload.order_ids else None
        # One credit per decision: a dispute's changed decision (decision_no 2) adds its difference.
        extra = [payload.decision_no] if payload.decision_no > 1 else []  # decision 1 keeps its old id
        movement_id = stable_id("compensation", payload.claim_id, *extra)
        return self._credit(payload.customer_id, movement_id, "compensation",
                            payload.amount, f"compensation for a {payload.kind.replace('_', ' ')} claim",
                            order_id, payload.rule_version)

    def on_counterfeit_confirmed(self, payload: CounterfeitConfirmed, _envelope: Any) -> list[Account]:
        movement_id = stable_id("counterfeit-refund", payload.order_id, payload.line_no)
        return self._credit(payload.customer_id, movement_id, "counterfeit_refund", payload.refund_amount,
                            f"counterfeit item on line {payload.line_no}: full refund", payload.order_id, None)

    def _credit(self, customer_id: str, movement_id: UUID, kind: str, amount: Decimal, reason: str,
                order_id: UUID | None, rule_version: str | None) -> list[Account]:
        if amount <= 0:
            return []
        account = self.account(customer_id)
        return [account] if account.credit(movement_id, kind, amount, reason, order_id, rule_version) else []

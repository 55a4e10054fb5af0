"""Paying with the payer's approval at the provider (PayPal: approve, then capture), and the surcharge
line: what each method costs before paying, and the surcharge's share returned with refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from service_runtime.auth import Caller
from service_runtime.errors import Conflict, NotFound
from service_runtime.tracing import stable_id
from services.payments.domain import FAILED, SUCCEEDED, Account, OrderBill, PaymentIntent, SurchargeRefunds, bill_id
from services.payments.providers import (Declined, PaymentRefused, ProviderError, RequestRefused, WebhookEvent,
                                         recorded_failure)
from services.payments.surcharges import SURCHARGE_VERSION, options, surcharge_refund


class PayerApprovalAndSurcharges:
    """Part of the payments application (mixed into PaymentsApplication)."""

    def payment_options(self, caller: Caller, order_id: UUID) -> dict[str, Any]:
        """Every way to pay this order with its surcharge line and total, before the customer pays."""
        bill = self.find(bill_id(order_id), OrderBill)
        if bill is None or bill.customer_id != caller.subject:
            raise NotFound(f"order {order_id} not found (a just-placed order reaches payments within moments)")
        methods = [*sorted(self.providers), "balance"]
        return {"order_id": order_id, "amount": bill.amount, "currency": bill.currency,
                "balance": self.balance(caller.subject), "rule_version": SURCHARGE_VERSION,
                "options": options(bill.amount, methods)}

    def capture_payment(self, caller: Caller, payment_id: UUID) -> PaymentIntent:
        """The payer approved at the provider (PayPal): capture the money. The capture's answer (or the
        provider's webhook, whichever comes first) confirms the payment; a retry captures once."""
        intent = self.find(payment_id, PaymentIntent)
        if intent is None or intent.customer_id != caller.subject:
            raise NotFound(f"payment {payment_id} not found")
        if intent.status == SUCCEEDED:
            return intent
        if intent.status == FAILED:
            raise PaymentRefused(recorded_failure(intent.failure or ""), payment_id)
        provider = self.provider_for(intent.method)
        if not provider.payer_approves or intent.provider_ref is None:
            raise Conflict(f"payment {payment_id} has nothing to capture")
        try:
            capture_id, status = provider.capture(intent.id, intent.provider_ref)
        except Declined as error:
            self._change(payment_id, lambda i: i.fail(f"{error.kind}: {error}"))
            raise PaymentRefused(error, payment_id) from None
        except RequestRefused as error:  # not approved yet: the payer can still approve, then capture
            raise PaymentRefused(error, payment_id) from None
        except ProviderError as error:  # timeout or 5xx: still pending; a retry asks PayPal the same again
            raise PaymentRefused(error, payment_id) from None
        if status in ("COMPLETED", "DECLINED"):
            outcome = "succeeded" if status == "COMPLETED" else "failed"
            self.on_webhook(WebhookEvent(f"capture-{capture_id}", outcome, payment_id, capture_id,
                                         "the payer's funding source was declined at capture"))
        else:  # PENDING (an eCheck, a review): the money is moving; PayPal's webhook says how it ends
            self._change(payment_id, lambda i: i.note_capture_pending(capture_id))
        intent = self.repository.get(payment_id)
        if intent.status == FAILED:
            raise PaymentRefused(recorded_failure(intent.failure or ""), payment_id)
        return intent

    def _note_surcharge(self, intent: PaymentIntent, outcome: str) -> list[Any]:
        """An order's surcharged payment is remembered so that its refunds return the surcharge too."""
        if intent.order_id is None or intent.purpose != "order" or intent.charged == intent.amount:
            return []
        if outcome == "late":  # the whole payment, surcharge included, went to the balance already
            return []
        ledger = self.find(SurchargeRefunds.create_id(intent.order_id), SurchargeRefunds) or \
            SurchargeRefunds(order_id=intent.order_id)
        ledger.note_payment(intent.id, intent.amount, intent.surcharge)
        return [ledger]

    def _return_surcharge(self, customer_id: str, order_id: UUID, refund_id: UUID, refund: Decimal,
                          credited: list[Account]) -> list[Any]:
        """A refund of a surcharged order gives back the surcharge's share (all of it once the order is
        refunded in full), credited with the surcharge rule's version."""
        ledger = self.find(SurchargeRefunds.create_id(order_id), SurchargeRefunds)
        if ledger is None or str(refund_id) in ledger.seen:
            return credited
        share = surcharge_refund(ledger.surcharge, ledger.paid, ledger.refunded, refund, ledger.returned)
        ledger.note_refund(refund_id, refund, share)
        account = credited[0] if credited else self.account(customer_id)
        if share > 0:
            account.credit(stable_id("surcharge-refund", refund_id), "refund", share,
                           "the payment method's surcharge on the refunded amount", order_id, SURCHARGE_VERSION)
        return [account, ledger]

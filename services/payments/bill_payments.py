"""Paying the bills other services publish (a parcel's shipping, an order line's price
difference) by card through the provider or from the balance, once; mixed into the payments
application, which brings the intents, the providers and the balance."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts.logistics import ShippingBilled
from contracts.orders import PriceDifferenceBilled
from service_runtime.auth import Caller
from service_runtime.errors import DomainError, NotFound
from service_runtime.requests import fingerprint
from service_runtime.tracing import stable_id
from services.payments.bills import Bill, charge_bill_id, paid_by
from services.payments.domain import FAILED, PaymentIntent
from services.payments.surcharges import SURCHARGE_VERSION, surcharge_for


class BillPayments:
    """Needs the payments application's find, repository, save_with_retry, earlier, account,
    provider_for, _submit, _deadline, clock and PaymentRefused (duck-typed to keep the
    modules apart)."""

    def bill(self, caller: Caller, purpose: str, reference: str) -> Bill:
        bill = self.find(charge_bill_id(purpose, reference), Bill)
        if bill is None or bill.customer_id != caller.subject:
            raise NotFound(f"no {purpose.replace('_', ' ')} bill for {reference} (a just-issued bill reaches "
                           f"payments within moments)")
        return bill

    def bill_payments(self, bill: Bill) -> list[PaymentIntent]:
        return [self.repository.get(UUID(payment_id)) for payment_id in bill.payment_ids]

    def bill_paid_by(self, bill: Bill) -> PaymentIntent | None:
        return paid_by(self.bill_payments(bill))

    def pay_bill(self, caller: Caller, purpose: str, reference: str, method: str, token: str | None,
                 key: str) -> PaymentIntent:
        """Pay a bill in full, once: by card (pending until the provider's webhook), by PayPal (the
        payer approves, then `POST /payments/{id}/capture`; its surcharge is its own line) or from
        the balance."""
        bill = self.bill(caller, purpose, reference)
        payment_id = stable_id("payment", purpose, reference, key)
        request = fingerprint({"purpose": purpose, "reference": reference, "method": method, "token": token})
        provider = None if method == "balance" else self.provider_for(method)
        if provider is not None and not token and not provider.payer_approves:
            raise DomainError(f"paying by {method} needs the provider's payment token (never card data)")

        def start() -> tuple[list[Any], tuple[PaymentIntent, bool]]:
            earlier = self.earlier(payment_id, request)
            if earlier is not None:  # the same Idempotency-Key: the first answer, no second charge
                return [], (earlier, earlier.abandoned_before_submission(self.clock.now()))
            bill = self.repository.get(charge_bill_id(purpose, reference))
            intent = PaymentIntent(payment_id=payment_id, customer_id=bill.customer_id, purpose=purpose,
                                   order_id=bill.order_id, amount=bill.total, currency=bill.currency, method=method,
                                   provider=provider.name if provider else "balance", fingerprint=request,
                                   reference=reference, lines=bill.lines,
                                   surcharge=surcharge_for(method, bill.total), surcharge_version=SURCHARGE_VERSION)
            bill.start_payment(payment_id, self.bill_payments(bill))  # saved together: one payment at a time
            if provider is not None:
                return [intent, bill, self._deadline(intent, provider)], (intent, True)
            account = self.account(bill.customer_id)
            account.debit(payment_id, bill.debit_kind, bill.total, f"payment of the {bill.description}",
                          bill.order_id, bill.lines)
            intent.confirm(None)
            return [intent, bill, account], (intent, False)

        intent, submit = self.save_with_retry(start)
        if submit:
            return self._submit(intent, provider, token)
        if intent.status == FAILED and intent.method != "balance":
            from services.payments.app import PaymentRefused
            from services.payments.providers import recorded_failure

            raise PaymentRefused(recorded_failure(intent.failure or ""), payment_id)
        return intent

    # Learning the bills ------------------------------------------------------------------

    def on_shipping_billed(self, payload: ShippingBilled, _envelope: Any) -> list[Bill]:
        """A parcel's bill, learned once: a redelivered or replayed event changes nothing."""
        reference = str(payload.parcel_id)
        if charge_bill_id("shipping", reference) in self.repository:
            return []
        return [Bill(purpose="shipping", reference=reference, customer_id=payload.customer_id, order_id=None,
                     lines=[line.model_dump(mode="json") for line in payload.lines], total=payload.total,
                     currency=payload.currency)]

    def on_price_difference_billed(self, payload: PriceDifferenceBilled, _envelope: Any) -> list[Bill]:
        """A line's accepted higher price, learned once."""
        reference = difference_reference(payload.order_id, payload.line_no)
        if charge_bill_id("price_difference", reference) in self.repository:
            return []
        label = (f"Price difference on line {payload.line_no}: ({payload.new_unit_price} - {payload.old_unit_price}) "
                 f"x {payload.quantity}")
        return [Bill(purpose="price_difference", reference=reference, customer_id=payload.customer_id,
                     order_id=payload.order_id, total=payload.amount, currency=payload.currency,
                     lines=[{"code": "price_difference", "label": label, "amount": str(payload.amount),
                             "traceability_code": None}])]


def difference_reference(order_id: UUID, line_no: int) -> str:
    """What a price-difference payment names: the order line (orders reads the line number back)."""
    return f"{order_id}/lines/{line_no}"

"""Stripe through its official SDK: PaymentIntents (confirmed with a PaymentMethod id from
Stripe's hosted fields), refunds, and webhooks verified with `stripe.Webhook.construct_event`
and its tolerance. `api_base` points the SDK at Stripe, or at the Stripe fake in tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping
from uuid import UUID

import stripe

from services.payments.providers import (Declined, ProviderTimeout, ProviderUnavailable, RequestRefused,
                                         Submission, WebhookEvent, WebhookRejected, minor_units)

WEBHOOK_TOLERANCE_SECONDS = 300
OUTCOMES = {"payment_intent.succeeded": "succeeded", "payment_intent.payment_failed": "failed"}


class StripeProvider:
    name = "stripe"
    method = "card"
    payer_approves = False

    def __init__(self, api_key: str, api_base: str, webhook_secret: str, timeout_seconds: float = 5.0) -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base}, max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds))

    def charge(self, payment_id: UUID, amount: Decimal, currency: str, token: str, customer_id: str) -> Submission:
        # `expand` returns the PaymentMethod object, whose `card.fingerprint` (Stripe's hash of the
        # card number, no card data) lets the velocity rules see one card used by many customers.
        params = {"amount": minor_units(amount), "currency": currency.lower(), "payment_method": token,
                  "confirm": True, "metadata": {"kongfu_payment_id": str(payment_id)},
                  "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                  "expand": ["payment_method"]}
        intent = self._call(lambda: self.client.v1.payment_intents.create(
            params, {"idempotency_key": f"charge-{payment_id}"}))
        return Submission(intent.id, card_fingerprint=card_fingerprint(intent.to_dict().get("payment_method")))

    def refund(self, refund_id: UUID, provider_ref: str, amount: Decimal) -> str:
        refund = self._call(lambda: self.client.v1.refunds.create(
            {"payment_intent": provider_ref, "amount": minor_units(amount),
             "metadata": {"kongfu_refund_id": str(refund_id)}}, {"idempotency_key": f"refund-{refund_id}"}))
        if refund.status not in ("succeeded", "pending"):
            raise ProviderUnavailable(f"Stripe answered the refund with status {refund.status}")
        return refund.id

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        try:
            event = stripe.Webhook.construct_event(body, headers.get("stripe-signature"), self.webhook_secret,
                                                   tolerance=WEBHOOK_TOLERANCE_SECONDS)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookRejected(f"Stripe webhook rejected: {exc}") from None
        outcome = OUTCOMES.get(event.type, "ignored")
        intent = event.data.object.to_dict()
        payment_id = (intent.get("metadata") or {}).get("kongfu_payment_id")
        error = intent.get("last_payment_error") or {}
        return WebhookEvent(event.id, outcome, UUID(payment_id) if payment_id else None, intent.get("id"),
                            error.get("message", "") if outcome == "failed" else "")

    @staticmethod
    def _call(request):
        try:
            return request()
        except stripe.CardError as exc:
            raise Declined(f"the card was declined: {exc.user_message or exc.code}") from None
        except stripe.APIConnectionError as exc:
            if "timed out" in str(exc).lower() or "timeout" in str(exc).lower():
                raise ProviderTimeout("Stripe did not answer in time; nothing was charged, try again") from None
            raise ProviderUnavailable("Stripe could not be reached; nothing was charged, try again") from None
        except stripe.StripeError as exc:
            status = getattr(exc, "http_status", None)
            if status is not None and status >= 500:
                raise ProviderUnavailable(f"Stripe failed ({status}); nothing was charged, try again") from None
            raise RequestRefused(f"Stripe refused the request: {exc.user_message or exc}") from None


def card_fingerprint(payment_method) -> str | None:
    """`payment_method.card.fingerprint` of an expanded PaymentMethod (None for an id or no card)."""
    if not isinstance(payment_method, dict):
        return None
    return (payment_method.get("card") or {}).get("fingerprint")

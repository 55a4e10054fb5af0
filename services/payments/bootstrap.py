"""Wiring: settings → the payments application, its providers, what it publishes, its handlers,
the ledger projection and the gateway."""

from __future__ import annotations

from contracts import payments as published
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from services.payments import api, consumers, projections
from services.payments.app import PAYMENT_DEADLINE, PaymentsApplication
from services.payments.domain import Account, PaymentIntent
from services.payments.providers.paypal import PayPalProvider
from services.payments.providers.stripe import StripeProvider

PUBLISHES = {
    PaymentIntent.Succeeded: published.PaymentSucceededV3,
    PaymentIntent.Failed: published.PaymentFailedV3,
    Account.Credited: published.BalanceCredited,
    Account.Debited: published.BalanceDebitedV2,
    PaymentIntent.SurchargeCharged: published.SurchargeCharged,
}


def providers(settings: Settings) -> dict:
    stripe = StripeProvider(settings.stripe_api_key, settings.stripe_api_base,
                            settings.resolved_stripe_webhook_secret(), settings.payment_provider_timeout_seconds)
    return {"card": stripe, **paypal_provider(settings)}


def paypal_provider(settings: Settings) -> dict:
    """PayPal when the platform has PayPal credentials (or the PayPal fake's)."""
    if not settings.paypal_client_id:
        return {}
    return {"paypal": PayPalProvider(settings.paypal_client_id, settings.paypal_client_secret,
                                     settings.paypal_api_base, settings.paypal_webhook_id,
                                     settings.payment_provider_timeout_seconds)}


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("payments", PaymentsApplication, PUBLISHES, settings, api.router, consumers.handlers,
                     consumers.CONSUMES, projections=[projections.LEDGER], projection_router=projections.router,
                     public_routers=[api.rules_router],
                     timer_factory=lambda app: {PAYMENT_DEADLINE: app.on_payment_deadline})
    parts.app.providers = providers(settings)
    return parts

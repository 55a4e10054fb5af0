"""The payments gateway: pay an order (card, PayPal or balance), top up, withdraw, read the
balance and the ledger; the providers' signed webhooks."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field

from service_runtime.auth import CUSTOMER, Caller
from service_runtime.http import current_caller, merged_router, require_roles
from service_runtime.requests import Money, ProviderReference, Strict
from service_runtime.rules import rules_router as published_rules_router
from services.payments.app import PaymentsApplication
from services.payments.domain import PaymentIntent
from services.payments.providers import WebhookRejected
from services.payments.surcharges import published_payment_methods

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=200)]


class OrderPaymentRequest(Strict):
    method: Literal["card", "paypal", "balance"]
    payment_token: ProviderReference | None = Field(
        default=None, description="the provider's token: a Stripe PaymentMethod id (pm_…) from Stripe's hosted "
                                  "fields, or an approved PayPal order id; never card data")


class TopUpRequest(Strict):
    amount: Money
    method: Literal["card", "paypal"]
    payment_token: ProviderReference


class WithdrawalRequest(Strict):
    amount: Money


class PaymentView(BaseModel):
    payment_id: UUID
    order_id: UUID | None
    purpose: str
    amount: Decimal
    currency: str
    method: str
    provider: str
    status: Literal["pending", "succeeded", "failed"]
    failure: str | None
    surcharge: Decimal = Field(default=Decimal("0.00"), description="the method's published surcharge line")
    charged: Decimal | None = Field(default=None, description="what the provider takes: amount + surcharge")
    approve_url: str | None = Field(default=None, description="PayPal: where the payer approves, then "
                                                              "POST /payments/{payment_id}/capture")

    @classmethod
    def of(cls, intent: PaymentIntent) -> "PaymentView":
        return cls(payment_id=intent.id, order_id=intent.order_id, purpose=intent.purpose, amount=intent.amount,
                   currency=intent.currency, method=intent.method, provider=intent.provider,
                   status=intent.status, failure=intent.failure, **payer_facts(intent))


def payer_facts(intent: PaymentIntent) -> dict:
    """The surcharge line and the payer's approval link (PayPal) of a payment."""
    return {"surcharge": getattr(intent, "surcharge", Decimal("0.00")), "charged": intent.charged,
            "approve_url": getattr(intent, "payer_action_url", None) if intent.status == "pending" else None}


class PaymentOption(BaseModel):
    method: str
    amount: Decimal
    surcharge: Decimal
    surcharge_label: str
    total: Decimal
    currency: str
    rule_version: str


class PaymentOptionsView(BaseModel):
    order_id: UUID
    amount: Decimal
    currency: str
    balance: Decimal
    rule_version: str
    options: list[PaymentOption]


class BalanceView(BaseModel):
    customer_id: str
    balance: Decimal
    currency: str = "CNY"


class RefundPart(BaseModel):
    payment_id: UUID
    amount: Decimal
    provider_refund: str


class WithdrawalView(BaseModel):
    withdrawal_id: UUID
    amount: Decimal
    refunds: list[RefundPart]
    balance: Decimal


class WebhookAnswer(BaseModel):
    result: Literal["applied", "duplicate", "ignored"]


# What a provider can answer besides success, documented so a generated client expects it.
PROVIDER_ANSWERS = {
    402: {"description": "Payment declined, or the balance is short", },
    502: {"description": "The payment provider failed or could not be reached; nothing was charged"},
    504: {"description": "The payment provider did not answer in time; nothing was charged"},
    409: {"description": "A repeat (same Idempotency-Key) of a payment its first request may still be "
                         "submitting to the provider: repeat it in a few seconds; or of one given up because "
                         "no provider heard of it within 15 minutes: pay again with a new key"},
}


def router(app: PaymentsApplication) -> APIRouter:
    api = APIRouter(tags=["payments"])

    @api.post("/payments/orders/{order_id}", status_code=201, response_model=PaymentView, responses=PROVIDER_ANSWERS)
    def pay_order(order_id: UUID, body: OrderPaymentRequest, idempotency_key: IdempotencyKey,
                  caller: Caller = Depends(require_roles(CUSTOMER))):
        """Pay an order: by card or PayPal the payment stays `pending` until the provider's webhook
        confirms it; from the balance it succeeds at once (or 402 if the balance is short)."""
        return PaymentView.of(app.pay_order(caller, order_id, body.method, body.payment_token, idempotency_key))

    @api.get("/payments/orders/{order_id}/options", response_model=PaymentOptionsView)
    def payment_options(order_id: UUID, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Each way to pay the order, with its surcharge as its own line and the total, before paying."""
        return app.payment_options(caller, order_id)

    @api.post("/payments/{payment_id}/capture", response_model=PaymentView, responses=PROVIDER_ANSWERS)
    def capture(payment_id: UUID, caller: Caller = Depends(require_roles(CUSTOMER))):
        """After approving at PayPal (`approve_url`): capture the money; safe to retry."""
        return PaymentView.of(app.capture_payment(caller, payment_id))

    @api.get("/payments/{payment_id}", response_model=PaymentView)
    def get_payment(payment_id: UUID, caller: Caller = Depends(current_caller)):
        return PaymentView.of(app.payment_for(caller, payment_id))

    @api.post("/me/top-ups", status_code=201, response_model=PaymentView, responses=PROVIDER_ANSWERS)
    def top_up(body: TopUpRequest, idempotency_key: IdempotencyKey,
               caller: Caller = Depends(require_roles(CUSTOMER))):
        return PaymentView.of(app.top_up(caller, body.amount, body.method, body.payment_token, idempotency_key))

    @api.post("/me/withdrawals", status_code=201, response_model=WithdrawalView, responses=PROVIDER_ANSWERS)
    def withdraw(body: WithdrawalRequest, idempotency_key: IdempotencyKey,
                 caller: Caller = Depends(require_roles(CUSTOMER))):
        """Money from the balance back to the card it came from."""
        return app.withdraw(caller, body.amount, idempotency_key)

    @api.get("/me/balance", response_model=BalanceView)
    def balance(caller: Caller = Depends(require_roles(CUSTOMER))):
        return BalanceView(customer_id=caller.subject, balance=app.balance(caller.subject))

    @api.post("/payments/webhooks/{provider}", response_model=WebhookAnswer)
    async def provider_webhook(provider: Literal["stripe", "paypal"], request: Request):
        """A provider's event. No bearer token: the provider signs the raw body instead."""
        import asyncio

        body = await request.body()
        adapter = next((p for p in app.providers.values() if p.name == provider), None)
        if adapter is None:
            raise HTTPException(404, f"no {provider} provider is configured")
        try:  # in a thread: verifying may fetch the provider's certificate
            event = await asyncio.to_thread(adapter.verify_webhook, body, request.headers)
        except WebhookRejected as exc:  # the signature is the caller's credential, as for carriers
            raise HTTPException(401, str(exc)) from None
        return WebhookAnswer(result=await asyncio.to_thread(app.on_webhook, event))

    from services.payments import bills_api  # it reuses this module's request and answer models

    return merged_router(api, bills_api.router(app))


def rules_router() -> APIRouter:
    """The published payment methods and their surcharges; readable by anyone, no token."""
    return published_rules_router({
        "payment-methods": (published_payment_methods, "Each payment method's surcharge (rate + fixed fee)"),
    })

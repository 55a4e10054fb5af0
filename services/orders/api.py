"""The orders gateway."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from service_runtime.auth import CUSTOMER, Caller
from service_runtime.http import current_caller, require_roles
from service_runtime.on_loop import on_loop
from service_runtime.requests import Money, Strict
from services.orders.app import OrdersApplication
from services.orders.domain import CHOICES, Order



class ItemRequest(Strict):
    product_url: str = Field(max_length=2048, pattern=r"^https?://[^\s/]+\.[^\s]+$",
                             examples=["https://item.taobao.com/item.htm?id=6543217890"])
    sku: str = Field(min_length=1, max_length=200, examples=["colour:black;size:M"])
    quantity: int = Field(ge=1, le=999)
    unit_price: Money = Field(description="Unit price in CNY as shown on the marketplace")
    title: str | None = Field(default=None, max_length=500,
                              description="The listing's title as shown on the marketplace; screened with the SKU")


class PlaceOrderRequest(Strict):
    destination_country: str = Field(pattern=r"^[A-Z]{2}$", examples=["GB"])
    items: list[ItemRequest] = Field(min_length=1, max_length=50)


class DecisionRequest(Strict):
    """A higher new price's difference is paid at payments afterwards
    (`POST /payments/orders/{order_id}/lines/{line_no}/price-difference`), never typed in here."""

    choice: Literal["accept_new_price", "cancel", "repurchase", "return_to_merchant", "refund"]


class QuoteLine(BaseModel):
    code: str
    label: str
    amount: Decimal


class Quote(BaseModel):
    currency: str
    lines: list[QuoteLine]
    total: Decimal
    rules_version: str


class OrderLine(BaseModel):
    line_no: int
    platform: str
    item_id: str
    product_url: str
    sku: str
    quantity: int
    unit_price: Decimal
    status: Literal["active", "awaiting_your_decision", "awaiting_price_difference_payment", "under_review",
                    "cancelled"]
    review: dict | None = None  # while under compliance review: the rule and why, in English and Chinese


class PendingDecision(BaseModel):
    line_no: int
    kind: str
    details: dict
    choices: list[str]


class RefundView(BaseModel):
    refund_id: UUID
    amount: Decimal
    currency: str
    reason: str
    line_no: int | None


class PaymentView(BaseModel):
    payment_id: UUID
    order_id: UUID
    amount: Decimal
    currency: str
    method: str


class FailedPaymentView(BaseModel):
    payment_id: UUID
    reason: str


class OrderView(BaseModel):
    order_id: UUID
    customer_id: str
    status: str
    status_reasons: list[str]
    destination_country: str
    lines: list[OrderLine]
    quote: Quote
    payments: list[PaymentView]
    pending_decisions: list[PendingDecision]
    refunds: list[RefundView]
    failed_payments: list[FailedPaymentView]
    price_differences_due: list[dict] = Field(default=[], description="accepted higher prices awaiting payment "
                                                                      "at payments (`pay_at`)")
    placed_at: datetime
    version: int

    @classmethod
    def of(cls, order: Order) -> "OrderView":
        def line_status(line_no: int) -> str:
            if line_no in order.cancelled_lines:
                return "cancelled"
            if order.under_review(line_no):
                return "under_review"
            if line_no in getattr(order, "differences_due", {}):
                return "awaiting_price_difference_payment"
            return "awaiting_your_decision" if line_no in order.pending else "active"

        def review(line_no: int) -> dict | None:
            hold = order.screening_holds.get(line_no) if order.under_review(line_no) else None
            return hold and {k: hold[k] for k in ("rule", "reason", "reason_zh", "rules_version")}

        return cls(
            order_id=order.id, customer_id=order.customer_id, status=order.status,
            status_reasons=order.status_reasons, destination_country=order.destination_country,
            lines=[{**line, "status": line_status(line["line_no"]), "review": review(line["line_no"])}
                   for line in order.lines], quote=order.quote,
            payments=[PaymentView(order_id=order.id, **_public(p)) for p in order.payments],
            pending_decisions=[{"line_no": n, **q, "choices": list(CHOICES[q["kind"]])}
                               for n, q in sorted(order.pending.items())],
            refunds=order.refunds,
            failed_payments=[{"payment_id": k, "reason": v} for k, v in order.failed_payments.items()],
            price_differences_due=[{k: str(v) if k in ("amount", "new_unit_price") else v for k, v in due.items()}
                                   for _, due in sorted(getattr(order, "differences_due", {}).items())],
            placed_at=order.created_on, version=order.version,
        )


def _public(payment: dict) -> dict:
    return {k: payment[k] for k in ("payment_id", "amount", "currency", "method")}


def router(app: OrdersApplication) -> APIRouter:
    api = APIRouter(prefix="/orders", tags=["orders"])

    @api.post("", status_code=201, response_model=OrderView)
    @on_loop
    def place_order(body: PlaceOrderRequest, caller: Caller = Depends(require_roles(CUSTOMER)),
                    idempotency_key: Annotated[str | None, Header(
                        alias="Idempotency-Key", min_length=8, max_length=200,
                        description="Send one with every order and the same one on each retry: a retry of "
                                    "the same request returns the order it placed (201), the key with "
                                    "another body is a 422. Without a key every request places a new order.",
                    )] = None):
        order = app.place_order(caller.subject, body.destination_country,
                                [item.model_dump(mode="json") for item in body.items], idempotency_key)
        return OrderView.of(order)

    @api.get("/{order_id}", response_model=OrderView)
    @on_loop
    def get_order(order_id: UUID, caller: Caller = Depends(current_caller)):
        return OrderView.of(app.order_for(caller, order_id))

    @api.post("/{order_id}/lines/{line_no}/decision", response_model=OrderView)
    def decide(order_id: UUID, line_no: int, body: DecisionRequest,
               caller: Caller = Depends(require_roles(CUSTOMER))):
        """Answer a question about a line: a new price, an out-of-stock item, a failed inspection."""
        return OrderView.of(app.decide(caller, order_id, line_no, body.choice))

    return api

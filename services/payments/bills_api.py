"""The gateway for bills other services are owed: read a parcel's shipping bill (itemised, and
whether it is paid) and pay it by card or from the balance."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from service_runtime.auth import CUSTOMER, Caller
from service_runtime.http import require_roles
from services.payments.bill_payments import difference_reference
from services.payments.api import PROVIDER_ANSWERS, IdempotencyKey, OrderPaymentRequest, PaymentView

BILL_ANSWERS = {**PROVIDER_ANSWERS, 409: {"description": "Already paid, or another payment of it is pending, or a "
                                                         "repeat of one still being submitted (repeat it in a few seconds)"}}


class ChargeLine(BaseModel):
    code: str
    label: str
    amount: Decimal
    traceability_code: str | None = None


class BillView(BaseModel):
    purpose: str
    reference: str
    total: Decimal
    currency: str
    lines: list[ChargeLine]
    paid: bool
    payment_id: UUID | None


def router(app) -> APIRouter:
    api = APIRouter(tags=["payments"])

    def view(bill) -> BillView:
        paid = app.bill_paid_by(bill)
        return BillView(purpose=bill.purpose, reference=bill.reference, total=bill.total, currency=bill.currency,
                        lines=bill.lines, paid=paid is not None, payment_id=paid.id if paid else None)

    @api.get("/payments/shipping/{parcel_id}", response_model=BillView)
    def shipping_bill(parcel_id: UUID, caller: Caller = Depends(require_roles(CUSTOMER))):
        """The parcel's shipping bill as logistics issued it: the line, the premium, storage fees."""
        return view(app.bill(caller, "shipping", str(parcel_id)))

    @api.post("/payments/shipping/{parcel_id}", status_code=201, response_model=PaymentView,
              responses=BILL_ANSWERS)
    def pay_shipping(parcel_id: UUID, body: OrderPaymentRequest, idempotency_key: IdempotencyKey,
                     caller: Caller = Depends(require_roles(CUSTOMER))):
        """Pay a parcel's shipping bill once: by card the payment stays `pending` until the provider's
        webhook confirms it; from the balance it succeeds at once (or 402 if the balance is short)."""
        return PaymentView.of(app.pay_bill(caller, "shipping", str(parcel_id), body.method, body.payment_token,
                                           idempotency_key))

    @api.get("/payments/orders/{order_id}/lines/{line_no}/price-difference", response_model=BillView)
    def price_difference_bill(order_id: UUID, line_no: int = Path(ge=1, le=50),
                              caller: Caller = Depends(require_roles(CUSTOMER))):
        """An accepted higher price's difference for one order line, as orders billed it."""
        return view(app.bill(caller, "price_difference", difference_reference(order_id, line_no)))

    @api.post("/payments/orders/{order_id}/lines/{line_no}/price-difference", status_code=201,
              response_model=PaymentView,
              responses=BILL_ANSWERS)
    def pay_price_difference(order_id: UUID, body: OrderPaymentRequest, idempotency_key: IdempotencyKey,
                             line_no: int = Path(ge=1, le=50), caller: Caller = Depends(require_roles(CUSTOMER))):
        """Pay a line's price difference once; the purchase goes ahead when payments confirms it."""
        return PaymentView.of(app.pay_bill(caller, "price_difference", difference_reference(order_id, line_no),
                                           body.method, body.payment_token, idempotency_key))

    return api

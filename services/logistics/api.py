"""The logistics gateway: quotes, the paid shipping line, customs, handover, carrier webhooks
and the customer's receipt confirmation."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from service_runtime.auth import AUDITOR, CUSTOMER, LOGISTICS_STAFF, SUPPORT_AGENT, Caller
from service_runtime.http import current_caller, require_roles
from service_runtime.on_loop import on_loop
from service_runtime.rules import rules_router as published_rules_router
from service_runtime.settings import get_settings
from services.logistics import customs
from services.logistics.app import LogisticsApplication
from services.logistics.carriers import SIGNATURE_HEADER, SignatureRejected, verify
from services.logistics.insurance import published_insurance
from services.logistics.lines import LINES, LINES_VERSION
from services.logistics.reliability import recommended
from services.logistics.views import (CarrierUpdate, CustomsRequest, HandoverRequest, InsuranceRequest, InsuranceView,
                                      LineQuoteView, ParcelView, PersonalisedDeclarationRequest, QuoteView,
                                      ShippingBillView, ShippingRequest, WebhookAnswer)


async def raw_body(request: Request) -> bytes:
    """The exact bytes the carrier signed (parsed only after the signature is checked)."""
    return await request.body()


def carrier_update(body: bytes) -> CarrierUpdate:
    try:
        return CarrierUpdate.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]) from exc


def router(app: LogisticsApplication) -> APIRouter:
    api = APIRouter(prefix="/logistics", tags=["logistics"])

    @api.get("/parcels/{parcel_id}", response_model=ParcelView)
    @on_loop
    def get_parcel(parcel_id: UUID, caller: Caller = Depends(current_caller)):
        return ParcelView.of(app.shipment_for(caller, parcel_id))

    @api.get("/parcels/{parcel_id}/quotes", response_model=QuoteView)
    @on_loop
    def get_quotes(parcel_id: UUID, caller: Caller = Depends(require_roles(CUSTOMER, LOGISTICS_STAFF))):
        """Every shipping line with its price for this parcel, or the reason it refuses it."""
        shipment, offers = app.quote(caller, parcel_id)
        goods_value = sum((Decimal(item["value"]) for item in shipment.items), Decimal("0"))
        reliability = app.line_reliability()
        best = recommended(offers, reliability)
        return QuoteView(parcel_id=shipment.id, lines_version=LINES_VERSION, recommended_line=best,
                         lines=[LineQuoteView.of(o, reliability[o.line.code], o.line.code == best) for o in offers],
                         duties=customs.estimate(shipment.destination_country, goods_value),
                         additional_charges=app.additional_charges(shipment))

    @api.get("/customs-rules")
    def customs_rules(_: Caller = Depends(require_roles(CUSTOMER, LOGISTICS_STAFF, SUPPORT_AGENT, AUDITOR))) -> dict:
        """The declared-value tolerance, the exchange rates and the duty table, with their version."""
        return customs.published_table()

    @api.post("/parcels/{parcel_id}/personalised-declaration", response_model=ParcelView)
    def personalise_declaration(parcel_id: UUID, body: PersonalisedDeclarationRequest,
                                caller: Caller = Depends(require_roles(CUSTOMER))):
        """Declare your own value for items (below the purchase price), accepting the warning."""
        items = [item.model_dump() for item in body.items]
        return ParcelView.of(app.personalise_declaration(caller, parcel_id, items, body.warning_accepted))

    @api.post("/parcels/{parcel_id}/shipping", status_code=201, response_model=ShippingBillView)
    @on_loop
    def choose_shipping(parcel_id: UUID, body: ShippingRequest,
                        idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=200)],
                        caller: Caller = Depends(require_roles(CUSTOMER))):
        """Choose a line: the parcel's bill (line price, insurance premium, storage fees) is issued,
        itemised; pay it at payments, `POST /payments/shipping/{parcel_id}` (card or balance)."""
        app.choose_shipping(caller, parcel_id, idempotency_key, body.model_dump(mode="json"))
        return ShippingBillView.of(app.own_shipment(caller, parcel_id))

    @api.post("/parcels/{parcel_id}/customs-declaration", response_model=ParcelView)
    @on_loop
    def declare_customs(parcel_id: UUID, body: CustomsRequest,
                        caller: Caller = Depends(require_roles(LOGISTICS_STAFF))):
        items = [item.model_dump() for item in body.items]
        return ParcelView.of(app.declare_customs(caller, parcel_id, items))

    @api.post("/parcels/{parcel_id}/handover", response_model=ParcelView)
    @on_loop
    def hand_over(parcel_id: UUID, body: HandoverRequest, caller: Caller = Depends(require_roles(LOGISTICS_STAFF))):
        return ParcelView.of(app.hand_over(caller, parcel_id, body.carrier, body.tracking_number))

    @api.post("/carrier-webhooks/{carrier}", response_model=WebhookAnswer, response_model_exclude_none=True)
    @on_loop
    def carrier_webhook(carrier: str, body: bytes = Depends(raw_body),
                        signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None):
        """A carrier's tracking update. No bearer token: the carrier signs the raw body instead."""
        try:
            verify(get_settings().resolved_carrier_secret(), signature, body, now=time.time())
        except SignatureRejected as exc:
            raise HTTPException(401, str(exc)) from exc
        update = carrier_update(body)
        shipment, recorded = app.record_tracking(carrier, update.model_dump())
        if not recorded:
            return WebhookAnswer(duplicate=True)
        return WebhookAnswer(duplicate=False, parcel_id=shipment.id, status=update.status)

    @api.post("/parcels/{parcel_id}/insurance", status_code=201, response_model=InsuranceView)
    def choose_insurance(parcel_id: UUID, body: InsuranceRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Buy (`insured: true`) or decline shipping insurance for your parcel, before handover."""
        return InsuranceView.of(app.choose_insurance(caller, parcel_id, body.insured))

    @api.post("/parcels/{parcel_id}/receipt-confirmation", response_model=ParcelView)
    @on_loop
    def confirm_receipt(parcel_id: UUID, caller: Caller = Depends(require_roles(CUSTOMER))):
        return ParcelView.of(app.confirm_receipt(caller, parcel_id))

    return api


def published_lines() -> dict[str, Any]:
    return {"version": LINES_VERSION, "currency": "CNY", "lines": [
        {"code": line.code, "name": line.name, "volumetric_divisor": line.volumetric_divisor,
         "rate_per_kg": str(line.rate_per_kg), "minimum_charge": str(line.minimum_charge),
         "transit_days_min": line.transit_days_min, "transit_days_max": line.transit_days_max,
         "restricted_categories": list(line.restricted_categories)}
        for line in LINES]}


def rules_router() -> APIRouter:
    """Published rule sets of logistics; readable by anyone, no token."""
    return published_rules_router({
        "insurance": (published_insurance, "Shipping insurance: premium rate, minimum, cap and cover"),
        "shipping-lines": (published_lines, "Shipping lines: prices, volumetric divisors, restricted items"),
    })

"""The customer's parcels: requested, packed, paid, declared, shipped, tracked and received,
rebuilt from the warehouse and logistics topics."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from contracts import Envelope, EventPayload
from service_runtime.auth import CUSTOMER, Caller
from service_runtime.clock import utc_timestamp
from service_runtime.http import require_roles
from service_runtime.listing import Listing, PageParams, listed_page, page_model, page_params
from service_runtime.projections import Entry, Projection, ProjectionStore

# event type -> (fact, payload fields kept)
FACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "warehouse.ConsolidationRequested": ("requested", ("customer_id", "order_ids", "traceability_codes",
                                                       "destination_country")),
    "warehouse.ParcelPacked": ("packed", ("weight_kg", "length_cm", "width_cm", "height_cm")),
    "logistics.ShippingBilled": ("shipping_billed", ("line_code", "lines", "total", "currency")),
    "logistics.ShippingLineChosen": ("shipping_paid", ("line_code", "chargeable_weight_kg", "amount", "currency")),
    "logistics.CustomsDeclared": ("customs_declared", ()),
    "logistics.ParcelShipped": ("shipped", ("line_code", "carrier", "tracking_number")),
    "logistics.TrackingUpdated": ("tracking", ("status", "location", "carrier")),
    "logistics.ReceiptConfirmed": ("receipt_confirmed", ()),
}


def parcel_entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
    if envelope.type not in FACTS:
        return []
    fact, fields = FACTS[envelope.type]
    data = payload.model_dump(mode="json")
    at = utc_timestamp(data.get("carrier_time") or envelope.occurred_at)
    return [Entry(data["parcel_id"], at, str(envelope.event_id),
                  {"fact": fact, "at": at, **{k: data[k] for k in fields}})]


def parcel_view(parcel_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    latest = {e["fact"]: e for e in entries}
    requested = latest.get("requested", {})
    tracking = [e for e in entries if e["fact"] == "tracking"]
    billed = next((e for e in entries if e["fact"] == "shipping_billed"), None)  # issued once, then frozen
    status = tracking[-1]["status"] if tracking and entries[-1]["fact"] == "tracking" else (
        entries[-1]["fact"] if entries else None)
    return {
        "parcel_id": parcel_id, "customer_id": requested.get("customer_id"),
        "requested_at": requested.get("at"), "status": status,
        "order_ids": requested.get("order_ids", []), "traceability_codes": requested.get("traceability_codes", []),
        "destination_country": requested.get("destination_country"),
        "packed": latest.get("packed") and {k: latest["packed"][k] for k in ("weight_kg", "length_cm", "width_cm",
                                                                              "height_cm")},
        "shipping": latest.get("shipping_paid") and {k: latest["shipping_paid"][k] for k in (
            "line_code", "chargeable_weight_kg", "amount", "currency")},
        "bill": billed and {k: billed[k] for k in ("line_code", "lines", "total", "currency")},
        "carrier": (latest.get("shipped") or {}).get("carrier"),
        "tracking_number": (latest.get("shipped") or {}).get("tracking_number"),
        "tracking": [{k: e[k] for k in ("at", "status", "location")} for e in tracking],
    }


PARCELS = Projection(name="parcels", sources=("warehouse", "logistics"), entries=parcel_entries, view=parcel_view)


class Dimensions(BaseModel):
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal


class ShippingPaid(BaseModel):
    line_code: str
    chargeable_weight_kg: Decimal
    amount: Decimal
    currency: str


class BillLine(BaseModel):
    code: str
    label: str
    amount: Decimal
    traceability_code: str | None = None


class ShippingBill(BaseModel):
    """Everything charged for the parcel, line by line (paid at payments)."""

    line_code: str
    lines: list[BillLine]
    total: Decimal
    currency: str


class TrackingScan(BaseModel):
    at: str
    status: str
    location: str


class MyParcel(BaseModel):
    parcel_id: UUID
    customer_id: str
    requested_at: str
    status: str
    order_ids: list[UUID]
    traceability_codes: list[str]
    destination_country: str
    packed: Dimensions | None
    shipping: ShippingPaid | None
    bill: ShippingBill | None = None
    carrier: str | None
    tracking_number: str | None
    tracking: list[TrackingScan]


PARCELS_LISTED = Listing(PARCELS.name, owner_field="customer_id", fact="requested")


def router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/me", tags=["logistics"])

    @api.get("/parcels", response_model=page_model(MyParcel))
    def my_parcels(request: Request, params: PageParams = Depends(page_params),
                   caller: Caller = Depends(require_roles(CUSTOMER))):
        """My parcels, newest first: what is in each, the line paid for, and where it is."""
        return listed_page(store, PARCELS_LISTED, parcel_view, params, request, caller.subject)

    return api

"""The tracking timeline per order, rebuilt from every service's topic."""

from __future__ import annotations

from typing import Any, Iterable
from uuid import UUID

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from contracts import Envelope, EventPayload
from service_runtime.auth import AUDITOR, CUSTOMER, LOGISTICS_STAFF, SUPPORT_AGENT, WAREHOUSE_STAFF, Caller
from service_runtime.errors import Forbidden, NotFound
from service_runtime.listing import Listing, PageParams, listed_page, page_model, page_params
from service_runtime.eventlog import SERVICES
from service_runtime.http import current_caller
from service_runtime.on_loop import on_loop
from service_runtime.projections import Entry, Projection, ProjectionStore
from service_runtime.staff import actor_for_customer
from services.orders.timeline import STAGES, entry_for, next_action

STAFF_WHO_READ_TIMELINES = (SUPPORT_AGENT, AUDITOR, WAREHOUSE_STAFF, LOGISTICS_STAFF)


def timeline_entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
    data = payload.model_dump(mode="json")
    entry = entry_for(envelope.type, envelope.actor, envelope.occurred_at.isoformat(), data)
    if entry is None:
        return []
    order_ids = {str(o) for o in data.get("order_ids") or []}
    if envelope.order_id:
        order_ids.add(str(envelope.order_id))
    if data.get("order_id"):
        order_ids.add(str(data["order_id"]))
    private = {}
    if envelope.type == "orders.OrderPlaced":  # who owns the order, and what the listing shows of it
        private = {"owner": data["customer_id"], "summary": {
            "total": data["quote"]["total"], "currency": data["quote"]["currency"],
            "destination_country": data["destination_country"],
            "items": [{"platform": l["platform"], "sku": l["sku"], "quantity": l["quantity"]} for l in data["lines"]]}}
    return [Entry(order_id, entry["at"], str(envelope.event_id), {**entry, "event_id": str(envelope.event_id),
                                                                   **private})
            for order_id in sorted(order_ids)]


PRIVATE_FIELDS = ("owner", "summary")


def timeline_view(order_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    owner = next((e["owner"] for e in entries if e.get("owner")), None)
    return {"order_id": order_id, "customer_id": owner,
            "entries": [{k: v for k, v in e.items() if k not in PRIVATE_FIELDS} for e in entries]}


def order_summary(order_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of `GET /orders`: the order's latest stage and what the customer does next (pure)."""
    placed = next((e for e in entries if e.get("summary")), None)
    latest = entries[-1] if entries else None
    return {"order_id": order_id, "customer_id": placed and placed["owner"],
            "placed_at": placed and placed["at"], **((placed or {}).get("summary") or {}),
            "status": latest and latest["stage"], "status_en": latest and latest["name_en"],
            "status_zh": latest and latest["name_zh"], "updated_at": latest and latest["at"],
            "next_action": next_action(entries)}


TIMELINE = Projection(name="timeline", sources=SERVICES, entries=timeline_entries, view=timeline_view)


class TimelineEntry(BaseModel):
    stage: str
    name_en: str
    name_zh: str
    at: str
    actor: str
    details: dict[str, Any]
    event_id: str


class TimelineView(BaseModel):
    order_id: UUID
    entries: list[TimelineEntry]


StageCode = Literal[tuple(sorted({code for code, _, _ in STAGES.values()}))]  # type: ignore[valid-type]


class OrderedItem(BaseModel):
    platform: str
    sku: str
    quantity: int


class OrderSummary(BaseModel):
    order_id: UUID
    customer_id: str
    placed_at: str
    total: Decimal
    currency: str
    destination_country: str
    items: list[OrderedItem]
    status: StageCode
    status_en: str
    status_zh: str
    updated_at: str
    next_action: str | None


STAFF_WHO_LIST_ORDERS = (SUPPORT_AGENT, AUDITOR)
ORDERS_LISTED = Listing(TIMELINE.name, owner_field="owner")  # headed by the placed entry, the one with an owner


def router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/orders", tags=["orders"])

    @api.get("", response_model=page_model(OrderSummary))
    def list_orders(request: Request, params: PageParams = Depends(page_params),
                    status: StageCode | None = Query(None, description="staff: only orders at this stage"),
                    customer_id: str | None = Query(None, max_length=200, pattern=r"^[A-Za-z0-9_.@:\-]+$",
                                                    description="staff: only this customer's orders"),
                    caller: Caller = Depends(current_caller)):
        """Customers list their own orders; support agents and auditors list everyone's, filtered."""
        sees_all = caller.has_any(*STAFF_WHO_LIST_ORDERS)
        if not sees_all and CUSTOMER not in caller.roles:
            raise Forbidden(f"listing orders needs the customer role or one of {sorted(STAFF_WHO_LIST_ORDERS)}")
        owner = customer_id if sees_all else caller.subject
        return listed_page(store, ORDERS_LISTED, order_summary, params, request, owner,
                           keep=lambda row: status is None or row["status"] == status)

    @api.get("/{order_id}/timeline", response_model=TimelineView)
    @on_loop
    def timeline(order_id: UUID, caller: Caller = Depends(current_caller)):
        view = timeline_view(str(order_id), store.entries(TIMELINE.name, str(order_id)))
        if not view["entries"] or not caller.can_read_customer_data(view["customer_id"] or "",
                                                                    *STAFF_WHO_READ_TIMELINES):
            raise NotFound(f"order {order_id} not found")
        return view if caller.is_staff else timeline_for_customer(view)

    return api


def timeline_for_customer(view: dict[str, Any]) -> dict[str, Any]:
    """The timeline as its customer reads it: teams, never members of staff."""
    return {**view, "entries": [{**e, "actor": actor_for_customer(e["actor"])} for e in view["entries"]]}


# What the platform holds about a customer, by customer id: their orders and their (sealed) profile.
def customer_data_entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
    data = payload.model_dump(mode="json")
    at, event_id = envelope.occurred_at.isoformat(), str(envelope.event_id)
    if envelope.type == "orders.OrderPlaced":
        return [Entry(data["customer_id"], at, event_id, {"kind": "order", "order_id": data["order_id"], "at": at})]
    if envelope.type == "orders.CustomerProfileUpdated":
        return [Entry(data["customer_id"], at, event_id, {"kind": "profile", "at": at, "sealed": {
            k: v for k, v in data.items() if k != "customer_id"}})]
    if envelope.type == "orders.CustomerErased":
        return [Entry(data["customer_id"], at, event_id, {"kind": "erased", "at": at})]
    return []


def customer_data_view(customer_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    profiles = [e for e in entries if e["kind"] == "profile"]
    erasures = [e["at"] for e in entries if e["kind"] == "erased"]
    return {"customer_id": customer_id, "orders": [e["order_id"] for e in entries if e["kind"] == "order"],
            "profile": profiles[-1]["sealed"] if profiles else None,
            "profile_updated_at": profiles[-1]["at"] if profiles else None,
            "erased_at": erasures[-1] if erasures else None}


CUSTOMER_DATA = Projection(name="customer_data", sources=("orders",), entries=customer_data_entries,
                           view=customer_data_view)

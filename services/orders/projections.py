"""The tracking timeline per order, rebuilt from every service's topic."""

from __future__ import annotations

from typing import Any, Iterable
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from contracts import Envelope, EventPayload
from service_runtime.auth import AUDITOR, LOGISTICS_STAFF, SUPPORT_AGENT, WAREHOUSE_STAFF, Caller
from service_runtime.errors import NotFound
from service_runtime.eventlog import SERVICES
from service_runtime.http import current_caller
from service_runtime.projections import Entry, Projection, ProjectionStore
from services.orders.timeline import entry_for

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
    owner = data.get("customer_id") if envelope.type == "orders.OrderPlaced" else None
    return [Entry(order_id, entry["at"], str(envelope.event_id), {**entry, "event_id": str(envelope.event_id),
                                                                   **({"owner": owner} if owner else {})})
            for order_id in sorted(order_ids)]


def timeline_view(order_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    owner = next((e["owner"] for e in entries if e.get("owner")), None)
    return {"order_id": order_id, "customer_id": owner,
            "entries": [{k: v for k, v in e.items() if k != "owner"} for e in entries]}


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


def router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/orders", tags=["orders"])

    @api.get("/{order_id}/timeline", response_model=TimelineView)
    def timeline(order_id: UUID, caller: Caller = Depends(current_caller)):
        view = timeline_view(str(order_id), store.entries(TIMELINE.name, str(order_id)))
        if not view["entries"] or not caller.can_read_customer_data(view["customer_id"] or "",
                                                                    *STAFF_WHO_READ_TIMELINES):
            raise NotFound(f"order {order_id} not found")
        return view

    return api

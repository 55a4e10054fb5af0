"""The traceability record per item code: origin, intake and inspection, storage, parcel,
customs, shipment and delivery, rebuilt from the topics."""

from __future__ import annotations

from typing import Any, Iterable

from datetime import datetime, timezone
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from contracts import Envelope, EventPayload
from service_runtime.auth import AUDITOR, CUSTOMER, LOGISTICS_STAFF, SUPPORT_AGENT, WAREHOUSE_STAFF, Caller
from service_runtime.errors import NotFound
from service_runtime.http import current_caller, merged_router, require_roles
from service_runtime.listing import Listing, PageParams, listed_page, page_model, page_params
from services.warehouse.api import TypedCode
from services.warehouse.storage import storage_state
from service_runtime.clock import utc_timestamp
from service_runtime.staff import QC_TEAM, actor_for_customer, without_staff_ids
from service_runtime.on_loop import on_loop
from service_runtime.projections import Entry, Projection, ProjectionStore
from services.warehouse.api import UnmatchedParcel
from services.warehouse.domain import AUTO_MATCH_STAFF

STAFF_WHO_READ_TRACES = (WAREHOUSE_STAFF, LOGISTICS_STAFF, SUPPORT_AGENT, AUDITOR)
# Fields naming a member of staff: staff and auditors read them, a customer reads the team instead.
STAFF_ID_FIELDS = ("staff_id", "inspector_id", "received_by")
FACT_TEAMS = {"special_inspection": QC_TEAM, "inspection": QC_TEAM}

# event type -> (fact name, payload fields kept)
FACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "warehouse.ItemReceived": ("received", (
        "order_id", "line_no", "platform", "item_id", "sku", "quantity_expected", "category", "merchant_id",
        "merchant_name", "platform_order_no", "receipt_ref", "amount_paid", "tracking_number", "staff_id")),
    "warehouse.SpecialInspectionRecorded": ("special_inspection", ("checks", "passed", "notes", "inspector_id")),
    "warehouse.ItemInspected": ("inspection", (
        "quantity_checked", "exterior_condition", "photos", "passed", "issues", "staff_id")),
    "orders.QcResolutionChosen": ("inspection_resolution", ("choice",)),
    "warehouse.ItemStored": ("stored", ("location", "staff_id")),
    "warehouse.StorageNoticeDue": ("storage_notice", ("milestone", "days_stored", "fees_due", "currency")),
    "warehouse.ConsolidationRequested": ("shipping_requested", ("parcel_id", "destination_country")),
    "warehouse.ParcelPacked": ("packed", ("parcel_id", "materials", "cushioning", "reinforced", "weight_kg",
                                          "staff_id")),
    "logistics.CustomsDeclared": ("customs_declared", ("parcel_id", "destination_country")),
    "logistics.ParcelShipped": ("shipped", ("parcel_id", "line_code", "carrier", "tracking_number")),
    "logistics.TrackingUpdated": ("tracking", ("status", "location", "carrier", "carrier_event_id")),
    "logistics.CustomsStatusReported": ("tracking", ("status", "location", "carrier", "carrier_event_id")),
    "warehouse.ItemRecalled": ("recalled", ("recall_id", "reason", "shipped")),
    "logistics.ReceiptConfirmed": ("receipt_confirmed", ("parcel_id",)),
    "claims.ClaimOpened": ("claim_opened", ("claim_id", "kind", "description")),
}


class StorageState(BaseModel):
    days_used: int
    free_days_left: int
    fee_days: int
    fees_due: Decimal
    currency: str
    state: str
    days_until_abandoned: int
    rules_version: str


class ItemSummary(BaseModel):
    traceability_code: str
    order_id: UUID | None
    line_no: int | None
    platform: str | None
    sku: str | None
    category: str | None
    received_at: str
    state: str
    inspection_passed: bool | None
    issues: list[str]
    photos: list[str]
    location: str | None
    stored_at: str | None
    parcel_id: UUID | None
    storage: StorageState | None


def codes_in(payload: dict[str, Any]) -> list[str]:
    codes = set(payload.get("traceability_codes") or [])
    codes |= {item["traceability_code"] for item in payload.get("items") or [] if "traceability_code" in item}
    if payload.get("traceability_code"):
        codes.add(payload["traceability_code"])
    return sorted(codes)


def trace_entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
    if envelope.type not in FACTS:
        return []
    fact, fields = FACTS[envelope.type]
    data = payload.model_dump(mode="json")
    at = utc_timestamp(data.get("carrier_time") or envelope.occurred_at)
    entries = []
    for code in codes_in(data):
        item_facts = {k: data[k] for k in fields if k in data}
        declared = [i for i in data.get("items") or [] if i.get("traceability_code") == code and "hs_code" in i]
        if declared:
            item_facts["declaration"] = {k: declared[0][k] for k in ("hs_code", "description", "declared_value",
                                                                      "currency")}
        owner = data.get("customer_id") if envelope.type == "warehouse.ItemReceived" else None
        entries.append(Entry(code, at, str(envelope.event_id), {
            "fact": fact, "at": at, "actor": envelope.actor, "event_id": str(envelope.event_id),
            **({"owner": owner} if owner else {}), **item_facts}))
    return entries


def trace_view(code: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The record a customer or an auditor reads: the latest of each fact, and the full history."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        latest[entry["fact"]] = entry
    received = latest.get("received", {})
    public = [{k: v for k, v in e.items() if k != "owner"} for e in entries]
    return {
        "traceability_code": code,
        "customer_id": next((e["owner"] for e in entries if e.get("owner")), None),
        "origin": {k: received[k] for k in ("platform", "item_id", "sku", "merchant_id", "merchant_name",
                                            "platform_order_no", "receipt_ref", "amount_paid", "order_id",
                                            "line_no", "category") if k in received},
        "warehouse": {f: latest[f] for f in ("received", "special_inspection", "inspection", "stored")
                      if f in latest},
        "parcel": latest.get("packed"),
        "customs": latest.get("customs_declared"),
        "shipment": latest.get("shipped"),
        "tracking": [e for e in public if e["fact"] == "tracking"],
        "delivery": latest.get("receipt_confirmed"),
        "history": public,
    }


def trace_for_customer(record: Any) -> Any:
    """The customer's traceability record: every fact says which team acted (the QC team for
    inspections), never which member of staff."""
    if isinstance(record, list):
        return [trace_for_customer(r) for r in record]
    if not isinstance(record, dict):
        return record
    if "fact" in record:
        team = FACT_TEAMS.get(record["fact"]) or (
            actor_for_customer(record["actor"]) if "actor" in record and any(
                f in record for f in STAFF_ID_FIELDS) else None)
        return without_staff_ids(record, STAFF_ID_FIELDS, team)
    return {k: trace_for_customer(v) for k, v in record.items()}


def item_summary(code: str, entries: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """One row of `GET /me/items`: where the item is, its QC photos and its storage days and fees."""
    record = trace_view(code, entries)
    latest = {e["fact"]: e for e in entries}
    stored, shipped = latest.get("stored"), latest.get("shipped")
    inspection = latest.get("inspection", {})
    return {
        "traceability_code": code, "customer_id": record["customer_id"],
        "order_id": record["origin"].get("order_id"), "line_no": record["origin"].get("line_no"),
        "platform": record["origin"].get("platform"), "sku": record["origin"].get("sku"),
        "category": record["origin"].get("category"),
        "received_at": latest.get("received", {}).get("at"),
        "state": entries[-1]["fact"] if entries else None,
        "inspection_passed": inspection.get("passed"), "issues": inspection.get("issues", []),
        "photos": inspection.get("photos", []),
        "location": stored and stored.get("location"), "stored_at": stored and stored["at"],
        "parcel_id": (latest.get("shipping_requested") or {}).get("parcel_id"),
        "storage": stored and storage_state(datetime.fromisoformat(stored["at"]),
                                            datetime.fromisoformat(shipped["at"]) if shipped else now),
    }


TRACEABILITY = Projection(name="traceability", sources=("orders", "warehouse", "logistics", "claims"),
                          entries=trace_entries, view=trace_view)


# The unmatched-parcel queue: one key per tracking number, so concurrent scans write different
# aggregates (each its InboundParcel) and the queue is only read here.
def unmatched_entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
    data = payload.model_dump(mode="json")
    at = utc_timestamp(envelope.occurred_at)
    if envelope.type == "warehouse.UnmatchedParcelReceived":
        state = {"state": "waiting", "receipt_id": data["receipt_id"], "tracking_number": data["tracking_number"],
                 "carrier": data["carrier"], "received_by": data["staff_id"], "received_at": at}
    elif envelope.type == "warehouse.ItemReceived" and data["staff_id"] == AUTO_MATCH_STAFF:
        state = {"state": "matched"}  # the shipment record came after the scan: matched, out of the queue
    else:
        return []
    return [Entry(data["tracking_number"], at, str(envelope.event_id), state)]


def unmatched_view(tracking_number: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The parcel while it waits; empty once matched (whatever order the entries came in)."""
    if any(e["state"] == "matched" for e in entries):
        return {}
    waiting = next((e for e in entries if e["state"] == "waiting"), None)
    return {k: v for k, v in waiting.items() if k != "state"} if waiting else {}


UNMATCHED_PARCELS = Projection(name="unmatched_parcels", sources=("warehouse",), entries=unmatched_entries,
                               view=unmatched_view)


ITEMS_LISTED = Listing(TRACEABILITY.name, owner_field="owner", fact="received")


def router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/warehouse", tags=["warehouse"])
    mine = APIRouter(prefix="/me", tags=["warehouse"])

    @mine.get("/items", response_model=page_model(ItemSummary))
    def my_items(request: Request, params: PageParams = Depends(page_params),
                 caller: Caller = Depends(require_roles(CUSTOMER))):
        """My items in the warehouse (and shipped ones), newest first, with codes, photos, storage."""
        now = datetime.now(timezone.utc)  # storage days are counted at reading time, never stored
        return listed_page(store, ITEMS_LISTED, lambda code, entries: item_summary(code, entries, now),
                           params, request, caller.subject)

    @api.get("/trace/{code}")
    @on_loop
    def traceability_record(code: TypedCode, caller: Caller = Depends(current_caller)) -> dict[str, Any]:
        from services.warehouse.codes import parse_code

        code = parse_code(code)  # a mistyped code is a 422, never someone else's item
        view = trace_view(code, store.entries(TRACEABILITY.name, code))
        if not view["history"] or not caller.can_read_customer_data(view["customer_id"] or "",
                                                                    *STAFF_WHO_READ_TRACES):
            raise NotFound(f"no item with traceability code {code}")
        return view if caller.is_staff else trace_for_customer(view)

    @api.get("/unmatched", response_model=list[UnmatchedParcel])
    def unmatched_parcels(_: Caller = Depends(require_roles(WAREHOUSE_STAFF, AUDITOR))):
        """Parcels scanned before their shipment record, oldest first (a projection: a scan shows
        here within moments)."""
        views = [unmatched_view(key, entries)
                 for key, entries in store.entries_by_key(UNMATCHED_PARCELS.name).items()]
        return sorted((v for v in views if v), key=lambda v: (v["received_at"], v["tracking_number"]))

    return merged_router(api, mine)

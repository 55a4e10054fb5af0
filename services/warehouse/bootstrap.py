"""Wiring: settings → the warehouse application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import warehouse as published
from service_runtime.blobs import blob_store
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from service_runtime.store import schema_for
from services.warehouse import api, consumers, photos_api, projections, traceback_api
from services.warehouse.app import WarehouseApplication
from services.warehouse.domain import InboundParcel, Item, Parcel, UnmatchedQueue
from services.warehouse.storage import MILESTONES
from services.warehouse.recalls import QualityReport, Recall
from services.warehouse.traceback_app import WEEKLY_REPORT

PUBLISHES = {
    Item.Received: published.ItemReceived,
    InboundParcel.ParcelReceived: published.UnmatchedParcelReceived,
    UnmatchedQueue.ParcelReceived: published.UnmatchedParcelReceived,  # stored before the queue was split
    Item.SpecialInspectionRecorded: published.SpecialInspectionRecorded,
    Item.Inspected: published.ItemInspected,
    Item.Stored: published.ItemStored,
    Parcel.ConsolidationRequested: published.ConsolidationRequested,
    Parcel.Packed: published.ParcelPackedV2,
    Item.StorageNoticeDue: published.StorageNoticeDue,
    Item.Recalled: published.ItemRecalled,
    Recall.Issued: published.RecallIssued,
    QualityReport.Published: published.QualityTracebackReported,
}


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("warehouse", WarehouseApplication, PUBLISHES, settings, api.router, consumers.handlers,
                     consumers.CONSUMES, projections=[projections.TRACEABILITY, projections.UNMATCHED_PARCELS],
                     projection_router=projections.router,
                     timer_factory=lambda app: {WEEKLY_REPORT: app.on_weekly_report_due,
                                                **{f"storage.{m}": app.on_storage_milestone for m in MILESTONES}})
    parts.routers.append(traceback_api.router(parts.app))
    parts.app.photo_store = blob_store(settings, schema_for("warehouse", settings), "warehouse-photos")
    parts.routers.append(photos_api.router(parts.app))
    return parts

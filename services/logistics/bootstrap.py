"""Wiring: settings → the logistics application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import logistics as published
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from services.logistics import api, consumers, projections
from services.logistics.app import LogisticsApplication
from services.logistics.reliability import RELIABILITY
from services.logistics.domain import Shipment
from services.logistics.insurance import CarrierIncident, InsuranceCover

PUBLISHES = {
    Shipment.ShippingLineChosen: published.ShippingLineChosen,
    Shipment.ShippingBilled: published.ShippingBilled,
    Shipment.CustomsDeclared: published.CustomsDeclared,
    Shipment.Shipped: published.ParcelShipped,
    Shipment.TrackingUpdated: published.TrackingUpdated,
    Shipment.ReceiptConfirmed: published.ReceiptConfirmed,
    InsuranceCover.Chosen: published.InsuranceChosen,
    CarrierIncident.Reported: published.CarrierIncidentReported,
    Shipment.CustomsStatusReported: published.CustomsStatusReported,
}


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("logistics", LogisticsApplication, PUBLISHES, settings, api.router, consumers.handlers,
                     consumers.CONSUMES, projections=[RELIABILITY, projections.PARCELS],
                     projection_router=projections.router, public_routers=[api.rules_router])
    parts.app.reliability_source = lambda: parts.projection_store.entries_by_key(RELIABILITY.name)
    return parts

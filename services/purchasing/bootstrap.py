"""Wiring: settings → the purchasing application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import purchasing as published
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from services.purchasing import api, consumers
from services.purchasing.app import PurchasingApplication
from services.purchasing.domain import PurchaseTask

# PurchasingOrder's events and a task's hold and reopening stay inside purchasing.
PUBLISHES = {
    PurchaseTask.Opened: published.PurchaseTaskOpened,
    PurchaseTask.Purchased: published.ItemPurchased,
    PurchaseTask.PriceChangeRequested: published.PriceChangeRequested,
    PurchaseTask.OutOfStockReported: published.OutOfStockReported,
    PurchaseTask.Cancelled: published.PurchaseTaskCancelled,
    PurchaseTask.DomesticShipmentRecorded: published.DomesticShipmentRecorded,
}


def bootstrap(settings: Settings) -> ServiceParts:
    return assemble("purchasing", PurchasingApplication, PUBLISHES, settings, api.router, consumers.handlers,
                    consumers.CONSUMES)

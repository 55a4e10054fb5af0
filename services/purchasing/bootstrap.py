"""Wiring: settings → the purchasing application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import purchasing as published
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from services.purchasing import api, consumers, merchants_api
from services.purchasing.app import PurchasingApplication
from services.purchasing.domain import PurchaseTask
from services.purchasing.merchants import Merchant

# PurchasingOrder's events, a task's hold and reopening, and a merchant's history stay inside purchasing.
PUBLISHES = {
    PurchaseTask.Opened: published.PurchaseTaskOpened,
    PurchaseTask.Purchased: published.ItemPurchased,
    PurchaseTask.PriceChangeRequested: published.PriceChangeRequested,
    PurchaseTask.OutOfStockReported: published.OutOfStockReported,
    PurchaseTask.Cancelled: published.PurchaseTaskCancelled,
    PurchaseTask.DomesticShipmentRecorded: published.DomesticShipmentRecorded,
    Merchant.Blocked: published.MerchantBlocked,
    Merchant.Unblocked: published.MerchantUnblocked,
}


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("purchasing", PurchasingApplication, PUBLISHES, settings, api.router, consumers.handlers,
                     consumers.CONSUMES)
    parts.routers.append(merchants_api.router(parts.app))
    return parts

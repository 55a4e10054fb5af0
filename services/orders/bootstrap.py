"""Wiring: settings → the orders application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import orders as published
from service_runtime.pii import personal_data_for
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from service_runtime.store import schema_for
from services.orders import api, consumers, privacy_api, projections, screening_api
from services.orders.app import OrdersApplication
from services.orders.domain import Order
from services.orders.profiles import CustomerProfile

PUBLISHES = {
    Order.Placed: published.OrderPlaced,
    Order.PaymentRecorded: published.PaymentRecorded,
    Order.Confirmed: published.OrderConfirmed,
    Order.Held: published.OrderHeld,
    Order.PriceChangeAccepted: published.PriceChangeAccepted,
    Order.PriceDifferenceBilled: published.PriceDifferenceBilled,
    Order.LineCancelled: published.LineCancelled,
    Order.RefundIssued: published.RefundIssued,
    Order.QcResolutionChosen: published.QcResolutionChosen,
    CustomerProfile.Updated: published.CustomerProfileUpdated,  # personal fields as ciphertext only
    CustomerProfile.Erased: published.CustomerErased,
}


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("orders", OrdersApplication, PUBLISHES, settings, api.router, consumers.handlers,
                     consumers.CONSUMES, projections=[projections.TIMELINE, projections.CUSTOMER_DATA],
                     projection_router=projections.router)
    parts.app.personal_data = personal_data_for(settings, schema_for("orders", settings), "orders")
    parts.routers += [screening_api.router(parts.app), privacy_api.router(parts.app, parts.projection_store)]
    return parts

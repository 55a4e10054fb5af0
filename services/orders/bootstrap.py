"""Wiring: settings → the orders application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import orders as published
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from services.orders import api, consumers, projections, screening_api
from services.orders.app import OrdersApplication
from services.orders.domain import Order

PUBLISHES = {
    Order.Placed: published.OrderPlaced,
    Order.PaymentRecorded: published.PaymentRecorded,
    Order.Confirmed: published.OrderConfirmed,
    Order.Held: published.OrderHeld,
    Order.PriceChangeAccepted: published.PriceChangeAccepted,
    Order.LineCancelled: published.LineCancelled,
    Order.RefundIssued: published.RefundIssued,
    Order.QcResolutionChosen: published.QcResolutionChosen,
}


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("orders", OrdersApplication, PUBLISHES, settings, api.router, consumers.handlers,
                     consumers.CONSUMES, projections=[projections.TIMELINE], projection_router=projections.router)
    parts.routers.append(screening_api.router(parts.app))
    return parts

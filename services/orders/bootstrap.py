"""Wiring: settings → the orders application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import orders as published
from service_runtime.process import ServiceParts
from service_runtime.publishing import Publication
from service_runtime.settings import Settings
from service_runtime.store import ensure_schema, store_env
from services.orders import api, consumers
from services.orders.app import OrdersApplication
from services.orders.domain import Order

PUBLISHES = {
    Order.Placed: published.OrderPlaced,
    Order.PaymentRecorded: published.PaymentRecorded,
    Order.Confirmed: published.OrderConfirmed,
    Order.Held: published.OrderHeld,
}


def bootstrap(settings: Settings) -> ServiceParts:
    ensure_schema("orders", settings)
    app = OrdersApplication(env=store_env("orders", settings))
    return ServiceParts(
        name="orders", app=app, publication=Publication("orders", PUBLISHES, settings.namespace),
        routers=[api.router(app)], handlers=consumers.handlers(app), consumes=consumers.CONSUMES,
    )

"""Which events become notifications, and whose they are."""

from __future__ import annotations

from typing import Any

from contracts import Envelope
from service_runtime.consumer import Handler
from services.notifications.app import NotificationsApplication

CONSUMES = ("orders", "purchasing", "warehouse", "logistics", "claims")


def handlers(app: NotificationsApplication) -> dict[str, Handler]:
    def owner(kind: str, key_field: str):
        return lambda payload, _envelope: app.note_owner(kind, getattr(payload, key_field), payload.customer_id)

    def tell(kind: str, whose: str | None = None, when=lambda data: True):
        """`whose`: the order or parcel field naming the customer when the payload does not."""

        def handle(payload: Any, envelope: Envelope) -> list:
            data = payload.model_dump(mode="json")
            if not when(data):
                return []
            customer = data.get("customer_id")
            if customer is None and whose:
                customer = app.owner_of(whose, data[f"{whose}_id"])
            return app.queue_notifications(customer, envelope.event_id, kind, data)

        return handle

    return {
        "orders.OrderPlaced": owner("order", "order_id"),
        "warehouse.ConsolidationRequested": owner("parcel", "parcel_id"),
        "purchasing.PriceChangeRequested": tell("price_changed", "order"),
        "warehouse.ItemInspected": tell("qc_failed", when=lambda d: not d["passed"]),
        "orders.OrderHeld": tell("order_held", "order"),
        "logistics.ParcelShipped": tell("parcel_shipped", "parcel"),
        "logistics.TrackingUpdated": _by_status(tell("customs_hold", "parcel", lambda d: d["status"] == "exception"),
                                                tell("delivered", "parcel", lambda d: d["status"] == "delivered")),
        "claims.CompensationDecided": tell("claim_decided"),
        "claims.SurveyOffered": tell("survey_offered"),
        "warehouse.StorageNoticeDue": _by_status(
            tell("storage_reminder", when=lambda d: d["milestone"] != "abandoned"),
            tell("storage_abandoned", when=lambda d: d["milestone"] == "abandoned")),
    }


def _by_status(*handlers: Handler) -> Handler:
    def handle(payload: Any, envelope: Envelope) -> list:
        return [aggregate for handler in handlers for aggregate in handler(payload, envelope)]

    return handle

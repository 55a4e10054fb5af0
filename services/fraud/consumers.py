"""What fraud does when other services publish."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.fraud.app import FraudApplication

CONSUMES = ("orders",)


def handlers(app: FraudApplication) -> dict[str, Handler]:
    return {
        "orders.OrderPlaced": app.on_order_placed,
        "orders.PaymentRecorded": app.on_payment_recorded,
    }

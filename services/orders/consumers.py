"""What orders does when other services publish."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.orders.app import OrdersApplication

CONSUMES = ("fraud",)


def handlers(app: OrdersApplication) -> dict[str, Handler]:
    return {
        "fraud.OrderCleared": app.on_order_cleared,
        "fraud.OrderFlagged": app.on_order_flagged,
    }

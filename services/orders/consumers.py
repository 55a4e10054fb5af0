"""What orders does when other services publish."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.orders.app import OrdersApplication

CONSUMES = ("fraud", "purchasing", "warehouse")


def handlers(app: OrdersApplication) -> dict[str, Handler]:
    return {
        "fraud.OrderCleared": app.on_order_cleared,
        "fraud.OrderFlagged": app.on_order_flagged,
        "purchasing.PriceChangeRequested": app.on_price_change_requested,
        "purchasing.OutOfStockReported": app.on_out_of_stock,
        "purchasing.MerchantBlocked": app.on_merchant_blocked,
        "purchasing.MerchantUnblocked": app.on_merchant_unblocked,
        "warehouse.ItemInspected": app.on_item_inspected,
        "warehouse.ItemRecalled": app.on_item_recalled,
    }

"""What payments does when other services publish."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.payments.app import PaymentsApplication

CONSUMES = ("orders", "claims", "logistics")


def handlers(app: PaymentsApplication) -> dict[str, Handler]:
    return {
        "orders.OrderPlaced": app.on_order_placed,
        "orders.RefundIssued": app.on_refund_issued,
        "claims.CompensationDecided": app.on_compensation_decided,
        "claims.CounterfeitConfirmed": app.on_counterfeit_confirmed,
        "logistics.ShippingBilled": app.on_shipping_billed,
        "orders.PriceDifferenceBilled": app.on_price_difference_billed,
    }

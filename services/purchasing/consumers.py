"""What purchasing does when other services publish."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.purchasing.app import PurchasingApplication

CONSUMES = ("orders", "warehouse", "claims")


def handlers(app: PurchasingApplication) -> dict[str, Handler]:
    return {
        "orders.OrderPlaced": app.on_order_placed,
        "orders.OrderConfirmed": app.on_order_confirmed,
        "orders.OrderHeld": app.on_order_held,
        "orders.PriceChangeAccepted": app.on_price_change_accepted,
        "orders.LineCancelled": app.on_line_cancelled,
        "orders.QcResolutionChosen": app.on_qc_resolution_chosen,
        "orders.LineHeldForScreening": app.on_line_held_for_screening,
        "orders.ScreeningHoldDecided": app.on_screening_hold_decided,
        "warehouse.ItemReceived": app.on_item_received,
        "warehouse.ItemInspected": app.on_item_inspected,
        "claims.CounterfeitConfirmed": app.on_counterfeit_confirmed,
        "claims.ClaimOpened": app.on_claim_opened,
        "claims.ReturnDecided": app.on_return_decided,
    }

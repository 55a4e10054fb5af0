"""What claims does when other services publish: it learns about parcels."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.claims.app import ClaimsApplication

CONSUMES = ("warehouse", "logistics")


def handlers(app: ClaimsApplication) -> dict[str, Handler]:
    return {
        "warehouse.ParcelPacked": app.on_parcel_packed,
        "logistics.ShippingLineChosen": app.on_shipping_line_chosen,
        "logistics.TrackingUpdated": app.on_tracking_updated,
        "logistics.ReceiptConfirmed": app.on_receipt_confirmed,
    }

"""What claims does when other services publish: it learns about parcels and orders, and keeps
the deadlines of the guarantees."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.claims.app import ClaimsApplication

CONSUMES = ("warehouse", "logistics", "orders", "purchasing")


def handlers(app: ClaimsApplication) -> dict[str, Handler]:
    return {
        "warehouse.ParcelPacked": app.on_parcel_packed,
        "warehouse.ItemReceived": app.on_item_received,
        "warehouse.ItemInspected": app.on_item_inspected,
        "warehouse.ItemRecalled": app.on_item_recalled,
        "logistics.ShippingLineChosen": app.on_shipping_line_chosen,
        "logistics.InsuranceChosen": app.on_insurance_chosen,
        "logistics.ParcelShipped": app.on_parcel_shipped,
        "logistics.TrackingUpdated": app.on_tracking_updated,
        "logistics.CarrierIncidentReported": app.on_carrier_incident,
        "logistics.CustomsStatusReported": app.on_customs_status,
        "logistics.ReceiptConfirmed": app.on_receipt_confirmed,
        "orders.OrderPlaced": app.on_order_placed,
        "orders.PaymentRecorded": app.on_payment_recorded,
        "orders.LineCancelled": app.on_line_cancelled,
        "purchasing.ItemPurchased": app.on_item_purchased,
        "purchasing.DomesticShipmentRecorded": app.on_domestic_shipment,
    }


def timers(app: ClaimsApplication) -> dict:
    return app.timer_handlers()

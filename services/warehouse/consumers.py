"""What the warehouse does when other services publish."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.warehouse.app import WarehouseApplication

CONSUMES = ("purchasing", "orders")


def handlers(app: WarehouseApplication) -> dict[str, Handler]:
    return {
        "purchasing.DomesticShipmentRecorded": app.on_domestic_shipment_recorded,
        "orders.QcResolutionChosen": app.on_qc_resolution_chosen,
        "orders.CustomerErased": app.on_customer_erased,  # their inspection photos leave the store
    }

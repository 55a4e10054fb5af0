"""What logistics does when other services publish."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.logistics.app import LogisticsApplication

CONSUMES = ("warehouse", "payments")


def handlers(app: LogisticsApplication) -> dict[str, Handler]:
    return {
        "warehouse.ParcelPacked": app.on_parcel_packed,
        "payments.PaymentSucceeded": app.on_payment_succeeded,
    }

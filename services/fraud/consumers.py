"""What fraud does when other services publish (and what its own streams role decides)."""

from __future__ import annotations

from service_runtime.consumer import Handler
from services.fraud.app import FraudApplication

# `fraud-streams`: the velocity verdicts of the streams role's faust agents (services/fraud/streams.py).
CONSUMES = ("orders", "payments", "fraud-streams")


def handlers(app: FraudApplication) -> dict[str, Handler]:
    return {
        "orders.OrderPlaced": app.on_order_placed,
        "orders.PaymentRecorded": app.on_payment_recorded,
        "payments.PaymentSucceeded": app.on_payment_succeeded,
        "fraud.VelocityRuleTripped": app.on_velocity_rule_tripped,
    }

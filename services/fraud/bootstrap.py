"""Wiring: settings → the fraud application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from decimal import Decimal

from contracts import fraud as published
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from services.fraud import api, consumers
from services.fraud.app import FraudApplication
from services.fraud.domain import FraudCase, ReferencePrice
from services.fraud.velocity import Thresholds

PUBLISHES = {
    FraudCase.Cleared: published.OrderCleared,
    FraudCase.Flagged: published.OrderFlagged,
    FraudCase.Released: published.ReviewReleased,
    FraudCase.CancelledAfterReview: published.ReviewCancelled,
    ReferencePrice.Set: published.ReferencePriceSet,
    ReferencePrice.Changed: published.ReferencePriceSet,
}


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("fraud", FraudApplication, PUBLISHES, settings, api.router, consumers.handlers,
                     consumers.CONSUMES)
    parts.app.velocity = velocity_thresholds(settings)
    return parts


def velocity_thresholds(settings: Settings) -> Thresholds:
    """Settings, not a published rule set: thresholds a fraudster could read would be stepped around."""
    return Thresholds(settings.fraud_velocity_max_payments, Decimal(settings.fraud_velocity_max_amount))

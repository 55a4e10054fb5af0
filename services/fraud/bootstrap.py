"""Wiring: settings → the fraud application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import fraud as published
from service_runtime.process import ServiceParts
from service_runtime.publishing import Publication
from service_runtime.settings import Settings
from service_runtime.store import ensure_schema, store_env
from services.fraud import api, consumers
from services.fraud.app import FraudApplication
from services.fraud.domain import FraudCase, ReferencePrice

PUBLISHES = {
    FraudCase.Cleared: published.OrderCleared,
    FraudCase.Flagged: published.OrderFlagged,
    ReferencePrice.Set: published.ReferencePriceSet,
    ReferencePrice.Changed: published.ReferencePriceSet,
}


def bootstrap(settings: Settings) -> ServiceParts:
    ensure_schema("fraud", settings)
    app = FraudApplication(env=store_env("fraud", settings))
    return ServiceParts(
        name="fraud", app=app, publication=Publication("fraud", PUBLISHES, settings.namespace),
        routers=[api.router(app)], handlers=consumers.handlers(app), consumes=consumers.CONSUMES,
    )

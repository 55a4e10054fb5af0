"""Wiring: settings → the fraud application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from decimal import Decimal

from contracts import fraud as published
from service_runtime.process import ServiceParts, StreamsRole, assemble
from service_runtime.settings import Settings
from services.fraud import api, consumers, streams_topology
from services.fraud.app import FraudApplication
from services.fraud.domain import FraudCase, ReferencePrice
from services.fraud.velocity_rules import Thresholds

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
    # On the stack the streams role's faust agents decide the velocity rules; the worker records
    # their verdicts. The embedded default has no Kafka: its worker decides in-process.
    parts.app.velocity_in_process = settings.mode != "stack"
    parts.streams = StreamsRole(  # the `streams` role, stack mode only
        run=streams_task(settings, parts.app.velocity), topic=streams_topology.verdict_topic(),
        event_types=(published.VelocityRuleTripped.event_type,), sources=streams_topology.source_topics(),
        internal_topics=tuple(streams_topology.internal_topics().values()),
        changelog_topics=streams_topology.changelog_topics(), group=streams_topology.app_id())
    return parts


def velocity_thresholds(settings: Settings) -> Thresholds:
    """Settings, not a published rule set: thresholds a fraudster could read would be stepped around."""
    return Thresholds(settings.fraud_velocity_max_payments, Decimal(settings.fraud_velocity_max_amount),
                      settings.fraud_velocity_max_customers_per_card,
                      Decimal(settings.fraud_velocity_first_order_limit), settings.fraud_velocity_version)


def streams_task(settings: Settings, thresholds: Thresholds):
    async def run(stop):
        from services.fraud.streams import run_streams  # faust is imported by the streams role only

        await run_streams(settings, thresholds, stop)

    return run

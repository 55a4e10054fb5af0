"""Fraud's `streams` role: the velocity rules as faust-streaming agents with windowed tables.

    payments, orders topics ──route──▶ by-customer (key customer) ──▶ customer agent ─┐
                                  └──▶ by-card (key card fingerprint) ──▶ card agent ──┴─▶ fraud-streams topic
                                                                                            (fraud.VelocityRuleTripped)

Windows are tumbling hours of event time: `relative_to_field(Fact.occurred_at)`, the envelope's
`occurred_at`, never the wall clock or the record timestamp, so a replay or a late event lands in
the hour it happened. Table values are sets (payment id -> amount, customer, order id -> time), so
a redelivered fact counts once; a verdict's id comes from the payment (or order) and the rule, so
a re-run publishes the same envelope event id and fraud's worker (exactly-once recorder, contract
validation, dead-letter topic) records it once. The rules are `velocity_rules.py`'s, as on the
embedded default.

Every topic (sources, the two re-keying topics, the verdict topic, the tables' changelogs) is
created up front with the same partition count before the app starts: faust ignores a source
topic missing at its first rebalance, and a table's changelog must match its source's partitions.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

import faust
from pydantic import ValidationError

from contracts import Envelope
from contracts.fraud import VelocityRuleTripped
from contracts.registry import ContractError, parse_payload
from service_runtime.kafka_log import KafkaEventLog
from service_runtime.publishing import event_id_for
from service_runtime.settings import Settings
from services.fraud.streams_topology import PRODUCER, all_topics, app_id, internal_topics, source_topics, \
    verdict_topic
from services.fraud.streams_transport import use_quiet_transport
from services.fraud.velocity import verdict_id
from services.fraud.velocity_rules import WINDOW, Thresholds, Verdict, card_customers, customer_payments, \
    first_order, window_of

log = logging.getLogger("kongfu.fraud.streams")
KEPT = WINDOW * 2  # a window's table entries outlive it by an hour, for late events


class Fact(faust.Record, serializer="json", isodates=True):
    """What the agents count, re-keyed by customer or by card."""

    kind: str  # "payment" | "order"
    event_id: str
    customer_id: str
    order_id: str
    payment_id: str | None
    amount: str
    card_fingerprint: str | None
    occurred_at: datetime


def fact_from(value: bytes) -> Fact | None:
    """A payment paid for an order, or a placed order; None for anything else (a message the
    contracts refuse is dead-lettered by fraud's worker, which reads the same topics)."""
    try:
        envelope = Envelope.model_validate_json(value)
        if envelope.type not in ("payments.PaymentSucceeded", "orders.OrderPlaced"):
            return None
        payload = parse_payload(envelope.type, envelope.schema_version, envelope.payload)
    except (ValidationError, ContractError) as exc:
        log.warning("velocity agents skip an invalid message: %s", exc)
        return None
    if envelope.type == "orders.OrderPlaced":
        return Fact(kind="order", event_id=str(envelope.event_id), customer_id=payload.customer_id,
                    order_id=str(payload.order_id), payment_id=None, amount=str(payload.quote.total),
                    card_fingerprint=None, occurred_at=envelope.occurred_at)
    if payload.purpose != "order" or payload.order_id is None:
        return None
    return Fact(kind="payment", event_id=str(envelope.event_id), customer_id=payload.customer_id,
                order_id=str(payload.order_id), payment_id=str(payload.payment_id), amount=str(payload.amount),
                card_fingerprint=payload.card_fingerprint, occurred_at=envelope.occurred_at)


def verdict_record(fact: Fact, verdict: Verdict) -> tuple[bytes, bytes, list]:
    """The verdict's envelope (key, value, headers), the same for the same fact and rule."""
    subject = fact.payment_id or fact.order_id
    vid = verdict_id(subject, verdict.rule)
    start, end = window_of(fact.occurred_at)
    payload = VelocityRuleTripped(verdict_id=vid, order_id=fact.order_id, customer_id=fact.customer_id,
                                  payment_id=fact.payment_id, rule=verdict.rule, reason=verdict.reason,
                                  rules_version=verdict.rules_version, window_start=start, window_end=end)
    envelope = Envelope(event_id=event_id_for(PRODUCER, vid, 1), type=payload.event_type,
                        schema_version=payload.schema_version, occurred_at=fact.occurred_at, producer=PRODUCER,
                        aggregate_id=vid, aggregate_version=1, order_id=fact.order_id,
                        correlation_id=fact.order_id, causation_id=fact.event_id, actor=f"system:{PRODUCER}",
                        payload=payload.model_dump(mode="json"))
    headers = [("event_id", str(envelope.event_id).encode()), ("type", envelope.type.encode()),
               ("schema_version", str(envelope.schema_version).encode())]
    return fact.order_id.encode(), envelope.model_dump_json().encode(), headers


def build_app(settings: Settings, thresholds: Thresholds) -> faust.App:
    streams_dir = settings.var_dir / "streams"
    streams_dir.mkdir(parents=True, exist_ok=True)  # faust creates only the last level of its datadir
    app = faust.App(app_id(settings.namespace), broker=f"kafka://{settings.kafka_bootstrap}", store="memory://",
                    topic_partitions=settings.topic_partitions, topic_replication_factor=1,
                    topic_disable_leader=True, web_enabled=False, autodiscover=False,
                    consumer_auto_offset_reset="earliest", broker_credentials=credentials(settings),
                    # its working files under the var directory, not in whatever directory it runs from
                    datadir=str(streams_dir / "{conf.name}-data"))
    use_quiet_transport(app)
    raw = {"value_type": bytes, "key_type": bytes, "value_serializer": "raw", "key_serializer": "raw"}
    sources = app.topic(*source_topics(settings.namespace), **raw)
    names = internal_topics(settings.namespace)
    by_customer = app.topic(names["by_customer"], key_type=str, value_type=Fact)
    by_card = app.topic(names["by_card"], key_type=str, value_type=Fact)
    verdicts = app.topic(verdict_topic(settings.namespace), **raw)
    partitions = settings.topic_partitions

    def windowed(name: str) -> Any:
        return (app.Table(name, default=dict, partitions=partitions)
                .tumbling(WINDOW, expires=KEPT).relative_to_field(Fact.occurred_at))

    customer_paid = windowed("customer-payments")  # payment id -> amount, per customer and hour
    card_used = windowed("card-customers")  # customer -> "", per card fingerprint and hour
    customer_ordered = app.Table("customer-orders", default=dict, partitions=partitions)  # order id -> time

    async def publish(fact: Fact, verdict: Verdict | None) -> None:
        if verdict is not None:
            key, value, headers = verdict_record(fact, verdict)
            await verdicts.send(key=key, value=value, headers=headers)

    @app.agent(sources)
    async def route(stream):
        async for value in stream:
            fact = fact_from(value)
            if fact is None:
                continue
            await by_customer.send(key=fact.customer_id, value=fact)
            if fact.card_fingerprint:
                await by_card.send(key=fact.card_fingerprint, value=fact)

    @app.agent(by_customer)
    async def per_customer(stream):
        async for fact in stream:
            if fact.kind == "order":
                seen = {**customer_ordered[fact.customer_id], fact.order_id: fact.occurred_at.isoformat()}
                customer_ordered[fact.customer_id] = seen
                earliest = min(seen.items(), key=lambda item: (item[1], item[0]))[0]
                await publish(fact, first_order(earliest == fact.order_id, Decimal(fact.amount), thresholds))
                continue
            paid = {**customer_paid[fact.customer_id].value(), fact.payment_id: fact.amount}
            customer_paid[fact.customer_id] = paid
            total = sum((Decimal(a) for a in paid.values()), Decimal("0.00"))
            await publish(fact, customer_payments(len(paid), total, thresholds))

    @app.agent(by_card)
    async def per_card(stream):
        async for fact in stream:
            used = {**card_used[fact.card_fingerprint].value(), fact.customer_id: ""}
            card_used[fact.card_fingerprint] = used
            await publish(fact, card_customers(len(used), thresholds))

    return app


def credentials(settings: Settings) -> Any:
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    security = settings.kafka_security()
    return faust.SASLCredentials(username=security["sasl_plain_username"], password=security["sasl_plain_password"],
                                 mechanism=security["sasl_mechanism"], ssl_context=security["ssl_context"])


async def run_streams(settings: Settings, thresholds: Thresholds, stop: asyncio.Event) -> None:
    """Create every topic, start the agents, run until stopped."""
    await KafkaEventLog(settings.kafka_bootstrap, settings.topic_partitions, client_id="kongfu-fraud-streams",
                        namespace=settings.namespace, security=settings.kafka_security()).ensure_topics(
        all_topics(settings.namespace))
    app = build_app(settings, thresholds)
    await app.start()
    log.info("velocity agents started (%s)", thresholds.version)
    try:
        await stop.wait()
    finally:
        await app.stop()


"""Helpers for tests that run the platform for real: processes, tokens, topics, waiting."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from contracts.envelope import Envelope
from kongfu.local import ROOT, ServiceProcess, free_port, wait_until
from service_runtime.auth import issue_token

JWT_SECRET = "test-suite-secret-that-is-long-enough-for-hs256"
CARRIER_SECRET = "test-suite-carrier-webhook-secret"
STRIPE_WEBHOOK_SECRET = "whsec_test_suite_stripe_secret"
ISSUER = "kongfumall"
PAYPAL_CLIENT = ("test-suite-paypal-client", "test-suite-paypal-secret")
PAYPAL_WEBHOOK_ID = "WH-TEST-SUITE"
# Every namespace this test run made, forgotten when it ends (see conftest's `forget_namespaces_made`).
NAMESPACES_MADE: set[str] = set()
__all__ = ["ROOT", "ServiceProcess", "free_port", "wait_until", "token", "auth", "stack_env", "read_topic",
           "new_namespace", "NAMESPACES_MADE",
           "start_fake_stripe", "stripe_env", "listen_to", "start_fake_paypal", "paypal_env",
           "publish_raw", "envelopes", "metric"]


def token(subject: str, *roles: str) -> str:
    return issue_token(JWT_SECRET, subject, list(roles), issuer=ISSUER)


def auth(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(subject, *roles)}"}


def new_namespace(prefix: str = "t") -> str:
    """A fresh namespace (its own topics, consumer groups and schemas), forgotten after the run."""
    namespace = f"{prefix}{uuid.uuid4().hex[:10]}"
    NAMESPACES_MADE.add(namespace)
    return namespace


def stack_env(namespace: str, var_dir: Path) -> dict[str, str]:
    if namespace:
        NAMESPACES_MADE.add(namespace)
    return {
        "KONGFU_MODE": "stack",
        "KONGFU_NAMESPACE": namespace,
        "KONGFU_VAR_DIR": str(var_dir),
        "KONGFU_JWT_SECRET": JWT_SECRET,
        "KONGFU_CARRIER_WEBHOOK_SECRET": CARRIER_SECRET,
        "KONGFU_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "KONGFU_PAYMENT_PROVIDER_TIMEOUT_SECONDS": "2",
        "KONGFU_PG_DSN": os.environ.get("KONGFU_PG_DSN", "postgresql://kongfu:kongfu@127.0.0.1:15432/kongfu"),
        "KONGFU_KAFKA_BOOTSTRAP": os.environ.get("KONGFU_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
    }


def start_fake_stripe():
    """The Stripe fake a test platform pays through; point it at payments with `listen_to`."""
    from services.payments.providers.fake_stripe import FakeStripe

    return FakeStripe(STRIPE_WEBHOOK_SECRET, hang_seconds=4).start()


def stripe_env(fake) -> dict[str, str]:
    from services.payments.providers.fake_stripe import SHARED_TEST_CARDS_ENV

    return {"KONGFU_STRIPE_API_BASE": fake.url, "KONGFU_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            **SHARED_TEST_CARDS_ENV}


def listen_to(fake, payments_url: str) -> None:
    fake.webhook_url = f"{payments_url}/payments/webhooks/{getattr(fake, 'provider', 'stripe')}"


def start_fake_paypal():
    """The PayPal fake a test platform pays through; point it at payments with `listen_to`."""
    from services.payments.providers.fake_paypal import FakePayPal

    return FakePayPal(*PAYPAL_CLIENT, PAYPAL_WEBHOOK_ID).start()


def paypal_env(fake) -> dict[str, str]:
    return {"KONGFU_PAYPAL_API_BASE": fake.url, "KONGFU_PAYPAL_CLIENT_ID": PAYPAL_CLIENT[0],
            "KONGFU_PAYPAL_CLIENT_SECRET": PAYPAL_CLIENT[1], "KONGFU_PAYPAL_WEBHOOK_ID": PAYPAL_WEBHOOK_ID}


def read_topic(bootstrap: str, topic: str, timeout: float = 5.0) -> list[Any]:
    """Every record of a topic, from the beginning to its current end."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    async def read() -> list[Any]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                    isolation_level="read_committed")
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or [])]
            if not partitions:
                await consumer._client.force_metadata_update()  # noqa: SLF001
                partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or [])]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records = []
            deadline = time.monotonic() + timeout
            while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not read {topic} to its end")
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    records.extend(messages)
            return records
        finally:
            await consumer.stop()

    return asyncio.run(read())


def publish_raw(bootstrap: str, topic: str, key: bytes | None, value: bytes) -> None:
    from aiokafka import AIOKafkaProducer

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(send())


def envelopes(kafka: str, topic: str) -> list[Envelope]:
    return [Envelope.model_validate_json(r.value) for r in read_topic(kafka, topic)]


def metric(base: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def publish_as(platform: dict, service: str, payload: Any, order_id: Any = None) -> None:
    """Publish a contract event on `service`'s topic of a running platform (stack or embedded), as
    that service would: for journeys whose producing step belongs to a service not in this test."""
    import uuid
    from datetime import datetime, timezone

    from service_runtime.process import make_event_log
    from service_runtime.publishing import Publication
    from service_runtime.settings import Settings

    env = platform["env"]
    settings = Settings(mode=platform["mode"], var_dir=Path(env["KONGFU_VAR_DIR"]),
                        namespace=env.get("KONGFU_NAMESPACE", ""),
                        kafka_bootstrap=env.get("KONGFU_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    envelope = Envelope(event_id=uuid.uuid4(), type=payload.event_type, schema_version=payload.schema_version,
                        occurred_at=datetime.now(timezone.utc), producer=service, aggregate_id=uuid.uuid4(),
                        aggregate_version=1, order_id=order_id, actor=f"system:{service}",
                        payload=payload.model_dump(mode="json"))

    async def send() -> None:
        log = make_event_log(settings, client_id="test-publisher")
        await log.start()
        try:
            await log.publish([Publication(service, {}, settings.namespace).record(envelope)])
        finally:
            await log.stop()

    asyncio.run(send())


def topic_envelopes(platform: dict, service: str) -> list[Envelope]:
    """Every envelope on a service's topic of a running platform: Kafka (stack) or the embedded log."""
    from service_runtime.eventlog import topic_for

    if platform["mode"] == "embedded":
        import sqlite3

        db = sqlite3.connect(Path(platform["env"]["KONGFU_VAR_DIR"]) / "eventlog.sqlite")
        try:
            rows = db.execute("SELECT value FROM records WHERE topic=? ORDER BY offset", (topic_for(service),))
            return [Envelope.model_validate_json(value) for (value,) in rows.fetchall()]
        finally:
            db.close()
    return envelopes(platform["env"]["KONGFU_KAFKA_BOOTSTRAP"], topic_for(service, platform["namespace"]))

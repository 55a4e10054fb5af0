"""A consumer at rest asks the broker for records ten times less often (the broker holds its
fetch 5 s instead of 0.5 s), and a record that arrives meanwhile is still handed over at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from service_runtime import kafka_log
from service_runtime.eventlog import OutgoingRecord, topic_for
from service_runtime.kafka_log import BUSY_FETCH_WAIT_MS, QUIET_FETCH_WAIT_MS, KafkaEventLog

pytestmark = pytest.mark.stack


def test_a_quiet_consumer_holds_long_fetches_and_still_gets_a_record_at_once(stack, namespace, monkeypatch):
    monkeypatch.setattr(kafka_log, "QUIET_AFTER", 1.0)

    async def fetch_until(consumer, count: int, limit: float) -> tuple[list, float]:
        started, records = time.monotonic(), []
        while len(records) < count and time.monotonic() - started < limit:
            records += await consumer.fetch(timeout=0.2)
        return records, time.monotonic() - started

    async def scenario() -> None:
        log = KafkaEventLog(stack["kafka"], partitions=1, namespace=namespace)
        await log.start()
        topic = topic_for("orders", namespace)

        async def from_the_beginning(topic: str, partition: int) -> None:
            return None

        consumer = log.consumer(f"{namespace}.idle", [topic], from_the_beginning)
        await consumer.start()
        try:
            assert consumer.fetch_wait_ms() == BUSY_FETCH_WAIT_MS
            await fetch_until(consumer, 1, 2.0)  # nothing there: quiet after a second
            assert consumer.fetch_wait_ms() == QUIET_FETCH_WAIT_MS
            await asyncio.sleep(0.5)  # a held fetch is in flight at the broker
            sent = time.monotonic()
            await log.publish([OutgoingRecord(topic, b"k", b"the first record")])
            records, _ = await fetch_until(consumer, 1, 10.0)
            assert [r.value for r in records] == [b"the first record"]
            assert time.monotonic() - sent < 1.5, "the held fetch answered as soon as the record came"
            assert consumer.fetch_wait_ms() == BUSY_FETCH_WAIT_MS, "busy again"
        finally:
            await consumer.stop()
            await log.stop()

    asyncio.run(scenario())

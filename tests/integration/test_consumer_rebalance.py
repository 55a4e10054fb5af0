"""A consumer that joins its group on many partitions it has never handled starts on all of them
at once: its rebalance listener must not wait for the fetch in flight once per partition (the
group sends no heartbeat meanwhile, and a long enough wait gets the member expelled)."""

from __future__ import annotations

import asyncio
import time

import pytest

from service_runtime.eventlog import OutgoingRecord, all_topics
from service_runtime.kafka_log import KafkaEventLog

pytestmark = pytest.mark.stack

PARTITIONS = 3


def test_a_consumer_new_to_every_partition_starts_on_all_of_them_at_once(stack, namespace):
    async def scenario() -> list[float]:
        log = KafkaEventLog(stack["kafka"], partitions=PARTITIONS, namespace=namespace)
        await log.start()
        topics = sorted(all_topics(namespace))
        partitions = len(topics) * PARTITIONS
        assert partitions >= 24, "enough partitions for a per-partition wait to show"
        # Most partitions stay empty, as most do for a service: a fetch on them waits at the broker.
        await log.publish([OutgoingRecord(topics[0], f"key {n}".encode(), b"record") for n in range(12)])
        asked: list[float] = []

        async def never_handled(topic: str, partition: int) -> None:
            asked.append(time.monotonic())
            await asyncio.sleep(0.01)  # a service asks its database
            return None

        consumer = log.consumer(f"{namespace}.rebalance", topics, never_handled)
        started = time.monotonic()
        await consumer.start()
        records: set[tuple[str, int, int]] = set()
        try:
            while (len(records) < 12 or len(asked) < partitions) and time.monotonic() - started < 40:
                records |= {(r.topic, r.partition, r.offset) for r in await consumer.fetch(timeout=0.5)}
        finally:
            await consumer.stop()
            await log.stop()
        assert len(records) == 12 and len(asked) == partitions
        return asked

    asked = asyncio.run(scenario())
    # Waiting for the fetch in flight per partition took 0.5 s each: 27 s for these 54.
    assert asked[-1] - asked[0] < 3, f"{asked[-1] - asked[0]:.1f} s to set the start of every partition"


def test_a_log_that_no_longer_starts_at_zero_is_read_from_its_start(stack, namespace):
    """Retention or an operator deleted the first records: the consumer starts where the log does."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.records_to_delete import RecordsToDelete
    from aiokafka.structs import TopicPartition

    async def scenario() -> list[int]:
        log = KafkaEventLog(stack["kafka"], partitions=1, namespace=namespace)
        await log.start()
        topic = sorted(all_topics(namespace))[0]
        await log.publish([OutgoingRecord(topic, b"k", f"record {n}".encode()) for n in range(10)])
        admin = AIOKafkaAdminClient(bootstrap_servers=stack["kafka"])
        await admin.start()
        try:
            await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(before_offset=6)})
        finally:
            await admin.close()

        async def never_handled(topic: str, partition: int) -> None:
            return None

        consumer = log.consumer(f"{namespace}.trimmed", [topic], never_handled)
        await consumer.start()
        offsets: list[int] = []
        started = time.monotonic()
        try:
            while len(offsets) < 4 and time.monotonic() - started < 20:
                offsets += [r.offset for r in await consumer.fetch(timeout=0.5)]
        finally:
            await consumer.stop()
            await log.stop()
        return offsets

    assert asyncio.run(scenario()) == [6, 7, 8, 9]

"""A consumer group's offsets on Kafka: committed at most once a second while records flow (each
commit costs the broker a write), and whatever is left is committed when the consumer stops."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from service_runtime.eventlog import OutgoingRecord, topic_for
from service_runtime.kafka_log import KafkaEventLog

pytestmark = pytest.mark.stack


async def committed(kafka: str, group: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp.partition: meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


def test_offsets_are_committed_periodically_and_on_stop(stack, namespace):
    async def scenario() -> None:
        log = KafkaEventLog(stack["kafka"], partitions=1, namespace=namespace)
        await log.start()
        topic = topic_for("orders", namespace)
        await log.publish([OutgoingRecord(topic, b"k", f"record {n}".encode()) for n in range(20)])

        async def from_the_beginning(topic: str, partition: int) -> None:
            return None

        group = f"{namespace}.commits"
        consumer = log.consumer(group, [topic], from_the_beginning)
        await consumer.start()
        records = []
        while len(records) < 20:
            records += await consumer.fetch(timeout=1.0)
        for record in records:  # live traffic: one record per batch
            await consumer.mark_processed([record])
        assert (await committed(stack["kafka"], group)).get(0) == 1, "only the first batch is committed at once"
        await consumer.stop()
        assert (await committed(stack["kafka"], group)) == {0: 20}
        await log.stop()

    asyncio.run(scenario())

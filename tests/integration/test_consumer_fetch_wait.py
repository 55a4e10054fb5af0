"""An idle consumer's fetch waits long at the broker (few requests at rest), and that wait never
holds up a partition the application is busy with: its next records arrive as soon as they are
published, not when another partition's fetch comes back empty."""

from __future__ import annotations

import asyncio
import time

import pytest

from service_runtime.eventlog import OutgoingRecord, topic_for
from service_runtime.kafka_log import IDLE_FETCH_WAIT_MS, KafkaEventLog

pytestmark = pytest.mark.stack

HANDLING_SECONDS = 0.3  # longer than the client's 100 ms after which it used to fetch without the partition


def test_records_of_a_busy_partition_do_not_wait_for_an_idle_fetch(stack, namespace):
    async def scenario() -> list[float]:
        log = KafkaEventLog(stack["kafka"], partitions=3, namespace=namespace)
        await log.start()
        topic = topic_for("orders", namespace)

        async def from_the_beginning(topic: str, partition: int) -> None:
            return None

        consumer = log.consumer(f"{namespace}.fetch-wait", [topic], from_the_beginning)
        await consumer.start()
        one_partition = b"order-1"  # one key, so every record lands on the same partition

        async def next_record(deadline: float = 30.0):
            ends = time.monotonic() + deadline
            while time.monotonic() < ends:
                records = await consumer.fetch(timeout=0.5)
                if records:
                    assert len(records) == 1
                    return records[0]
            raise AssertionError("no record within 30 s")

        await log.publish([OutgoingRecord(topic, one_partition, b"0")])
        await next_record()  # the group has formed and the consumer is fetching
        waits = []
        for n in range(1, 5):
            # The application handles a record; meanwhile the next one is published.
            await asyncio.sleep(0.05)
            published = time.monotonic()
            await log.publish([OutgoingRecord(topic, one_partition, str(n).encode())])
            await asyncio.sleep(HANDLING_SECONDS)
            record = await next_record()
            assert record.value == str(n).encode()
            waits.append(time.monotonic() - published - HANDLING_SECONDS)
        await consumer.stop()
        await log.stop()
        return waits

    waits = asyncio.run(scenario())
    # Held up by an idle fetch, a record waits most of IDLE_FETCH_WAIT_MS (about 4.5 s measured).
    assert max(waits) < IDLE_FETCH_WAIT_MS / 2000, f"records waited {waits} s after the application was free"

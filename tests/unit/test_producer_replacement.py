"""A batch the Kafka producer fails leaves the event log without that producer: an idempotent
producer whose sequence numbers fell out of step with a restarted broker fails every later batch
(OutOfOrderSequenceNumber), so the next try must start a new one."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber

from service_runtime.eventlog import OutgoingRecord
from service_runtime.kafka_log import KafkaEventLog


class RefusingProducer:
    """Stands in for aiokafka's producer in the state the chaos run found it in."""

    def __init__(self) -> None:
        self.stopped = False

    async def send(self, topic, value, key=None, headers=None):
        future = asyncio.get_running_loop().create_future()
        future.set_exception(OutOfOrderSequenceNumber())
        return future

    async def stop(self) -> None:
        self.stopped = True


def test_a_failed_batch_drops_the_producer_and_stops_it():
    async def scenario():
        log = KafkaEventLog("127.0.0.1:1")
        refusing = RefusingProducer()
        log._producer = refusing  # noqa: SLF001 - the state under test
        with pytest.raises(OutOfOrderSequenceNumber):
            await log.publish([OutgoingRecord("t", b"k", b"v")])
        assert log._producer is None  # noqa: SLF001 - the next publish starts a new producer
        await asyncio.sleep(0.01)
        return refusing.stopped

    assert asyncio.run(scenario())

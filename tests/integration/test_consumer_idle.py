"""A consumer at rest asks the broker for records ten times less often (the broker holds its
fetch 5 s instead of 0.5 s), and a record that arrives meanwhile is still handed over at once;
under a stream of records it makes a round trip per 100 ms, not per record."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from service_runtime import fetch_pace
from service_runtime.eventlog import OutgoingRecord, topic_for
from service_runtime.fetch_pace import BUSY, QUIET, STREAMING
from service_runtime.kafka_log import KafkaEventLog

pytestmark = pytest.mark.stack


@contextlib.asynccontextmanager
async def a_consumer_of_one_topic(bootstrap: str, namespace: str, group: str):
    """A log with one single-partition topic and a started consumer of it from its beginning."""
    log = KafkaEventLog(bootstrap, partitions=1, namespace=namespace)
    await log.start()
    topic = topic_for("orders", namespace)

    async def from_the_beginning(topic: str, partition: int) -> None:
        return None

    consumer = log.consumer(f"{namespace}.{group}", [topic], from_the_beginning)
    await consumer.start()
    try:
        yield log, topic, consumer
    finally:
        await consumer.stop()
        await log.stop()


def test_a_quiet_consumer_holds_long_fetches_and_still_gets_a_record_at_once(stack, namespace, monkeypatch):
    monkeypatch.setattr(fetch_pace, "QUIET_AFTER", 1.0)

    async def fetch_until(consumer, count: int, limit: float) -> tuple[list, float]:
        started, records = time.monotonic(), []
        while len(records) < count and time.monotonic() - started < limit:
            records += await consumer.fetch(timeout=0.2)
        return records, time.monotonic() - started

    async def scenario() -> None:
        async with a_consumer_of_one_topic(stack["kafka"], namespace, "idle") as (log, topic, consumer):
            assert consumer.fetch_pace() == BUSY
            await fetch_until(consumer, 1, 2.0)  # nothing there: quiet after a second
            assert consumer.fetch_pace() == QUIET
            await asyncio.sleep(0.5)  # a held fetch is in flight at the broker
            sent = time.monotonic()
            await log.publish([OutgoingRecord(topic, b"k", b"the first record")])
            records, _ = await fetch_until(consumer, 1, 10.0)
            assert [r.value for r in records] == [b"the first record"]
            assert time.monotonic() - sent < 1.5, "the held fetch answered as soon as the record came"
            assert consumer.fetch_pace() == BUSY, "busy again"

    asyncio.run(scenario())


def test_a_stream_of_records_is_fetched_in_gathered_round_trips_and_none_is_lost(stack, namespace):
    async def scenario() -> None:
        async with a_consumer_of_one_topic(stack["kafka"], namespace, "stream") as (log, topic, consumer):
            await gathered(log, topic, consumer)

    async def gathered(log, topic, consumer) -> None:
        received: list[bytes] = []
        fetches_with_records = 0
        streaming_fetches, streaming_since = 0, None  # fetches that brought records at the streaming pace
        sent = [f"record {n}".encode() for n in range(300)]

        async def produce() -> None:  # 100 records a second, one publish each
            for value in sent:
                await log.publish([OutgoingRecord(topic, b"k", value)])
                await asyncio.sleep(0.01)

        producing = asyncio.create_task(produce())
        paces = set()
        started = time.monotonic()
        while len(received) < len(sent) and time.monotonic() - started < 30:
            streaming = consumer.fetch_pace() == STREAMING
            if streaming and streaming_since is None:
                streaming_since = time.monotonic()
            records = await consumer.fetch(timeout=0.5)
            if records:
                fetches_with_records += 1
                streaming_fetches += streaming
                received += [r.value for r in records]
            paces.add(consumer.fetch_pace())
        await producing
        assert received == sent
        assert STREAMING in paces and streaming_since is not None
        seconds = time.monotonic() - started
        assert fetches_with_records < 30 * seconds, (
            f"{fetches_with_records} fetches for {len(sent)} records in {seconds:.1f} s: not gathered")
        # The broker holds a streaming fetch 100 ms: about 10 round trips a second, not 20.
        streamed_for = time.monotonic() - streaming_since
        assert streaming_fetches <= 13 * streamed_for + 1, (
            f"{streaming_fetches} fetches in {streamed_for:.1f} s of streaming: more than one per 100 ms")
        for _ in range(4):  # the stream is over
            await consumer.fetch(timeout=0.5)
        assert consumer.fetch_pace() == BUSY

    asyncio.run(scenario())


def test_the_pace_follows_the_records_during_one_long_fetch(stack, namespace, monkeypatch):
    """The fetch loop of a process asks for records with a long timeout (`following.py`): the
    pace must still go quiet while that one call waits, and a record still ends it at once."""
    monkeypatch.setattr(fetch_pace, "QUIET_AFTER", 1.0)

    async def scenario() -> None:
        async with a_consumer_of_one_topic(stack["kafka"], namespace, "long") as (log, topic, consumer):
            waiting = asyncio.create_task(consumer.fetch(timeout=60.0))
            deadline = time.monotonic() + 10
            while consumer.fetch_pace() != QUIET and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert consumer.fetch_pace() == QUIET and not waiting.done(), "quiet within the one call"
            await asyncio.sleep(0.5)  # a held fetch is in flight at the broker
            sent = time.monotonic()
            await log.publish([OutgoingRecord(topic, b"k", b"after the quiet")])
            records = await asyncio.wait_for(waiting, timeout=10)
            assert [r.value for r in records] == [b"after the quiet"]
            assert time.monotonic() - sent < 1.5
            assert consumer.fetch_pace() == BUSY

    asyncio.run(scenario())

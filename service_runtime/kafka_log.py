"""The event log on Kafka (aiokafka): idempotent acks=all publishing, consumers that start where
their service's own records say, group offsets committed now and then."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Mapping, Sequence

from service_runtime import kafka_admin
from service_runtime.eventlog import LogRecord, OutgoingRecord, StartPosition, all_topics
from service_runtime.fetch_pace import BUSY_FETCH_MIN_BYTES, BUSY_FETCH_WAIT_MS, QUIET_FETCH_WAIT_MS, FetchPace

COMMIT_INTERVAL = 1.0  # seconds between a consumer group's offset commits (see KafkaLogConsumer)


class KafkaEventLog:
    def __init__(self, bootstrap: str, partitions: int = 3, client_id: str = "kongfu",
                 namespace: str = "", security: Mapping[str, Any] | None = None) -> None:
        self.bootstrap = bootstrap
        self.security = dict(security or {})  # SASL/TLS options for every client (settings.kafka_security)
        self.namespace = namespace
        self.partitions = partitions
        self.client_id = client_id
        self._producer = None
        self._closing: set[asyncio.Task] = set()  # producers dropped after a failed batch, stopping

    async def start(self) -> None:
        await self.ensure_topics(all_topics(self.namespace))

    async def _ensure_producer(self):
        if self._producer is None:
            from aiokafka import AIOKafkaProducer

            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                client_id=self.client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=2,
                request_timeout_ms=30000,
                **self.security,
            )
            await producer.start()
            self._producer = producer
        return self._producer

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        await kafka_admin.ensure_topics(self._admin(), topics, self.partitions)

    async def delete_namespace_topics(self, namespaces: Sequence[str] = ()) -> list[str]:
        """Every topic of these namespaces (by default this log's own: a bench's or a test's),
        services' and faust's alike, in one request: a broker's idle work grows with the topics it
        keeps. Refused for an empty namespace, the platform's own."""
        return await kafka_admin.delete_topics_under(self._admin(), self._prefixes(namespaces, "topics"))

    async def delete_namespace_groups(self, namespaces: Sequence[str] = ()) -> list[str]:
        """Every consumer group of these namespaces (services', projectors' and faust's), deleted:
        the broker keeps an empty group's offsets until their retention runs out, days later."""
        return await kafka_admin.delete_groups_under(self._admin(), self._prefixes(namespaces, "consumer groups"))

    def _prefixes(self, namespaces: Sequence[str], what: str) -> tuple[str, ...]:
        namespaces = list(namespaces) or [self.namespace]
        if not all(namespaces):
            raise ValueError(f"only a namespace's {what} can be deleted, never the platform's own")
        return tuple(f"{n}." for n in namespaces)

    def _admin(self):
        from aiokafka.admin import AIOKafkaAdminClient

        return AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-admin",
                                   **self.security)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        producer = await self._ensure_producer()
        try:
            pending = [
                await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers)) for r in records
            ]
            await asyncio.gather(*pending)
        except BaseException:
            self._discard_producer(producer)
            raise

    def _discard_producer(self, producer) -> None:
        """After a failed batch the idempotent producer's sequence numbers can be out of step with
        the broker for good (after a broker restart `make chaos` saw OutOfOrderSequenceNumber on
        every retry, for minutes, while the outbox grew): the next try starts a new producer (a new
        producer id). A copy the old one still delivers carries the same event ids: consumers skip it."""
        if self._producer is producer:
            self._producer = None

        async def close() -> None:
            try:
                await asyncio.wait_for(producer.stop(), timeout=30)
            except BaseException:  # noqa: BLE001 - it is being dropped; nothing depends on its end
                pass

        task = asyncio.ensure_future(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def consumer(self, group: str, topics: Sequence[str], start_position: StartPosition) -> "KafkaLogConsumer":
        return KafkaLogConsumer(self.bootstrap, group, topics, start_position, self.security)

    async def _assigned_reader(self, topics: Sequence[str]):
        from aiokafka import AIOKafkaConsumer
        from aiokafka.structs import TopicPartition

        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                    isolation_level="read_committed", max_poll_records=1000, **self.security)
        await consumer.start()
        partitions = []
        for topic in topics:
            known = consumer.partitions_for_topic(topic)
            if not known:
                await consumer._client.force_metadata_update()  # noqa: SLF001 - first look at a topic
                known = consumer.partitions_for_topic(topic) or set()
            partitions += [TopicPartition(topic, p) for p in sorted(known)]
        consumer.assign(partitions)
        return consumer, partitions

    async def end_offsets(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        consumer, partitions = await self._assigned_reader(topics)
        try:
            ends = await consumer.end_offsets(partitions) if partitions else {}
            return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
        finally:
            await consumer.stop()

    async def read_from_beginning(self, topics: Sequence[str], ends: dict[tuple[str, int], int],
                                  starts: dict[tuple[str, int], int] | None = None
                                  ) -> AsyncIterator[list[LogRecord]]:
        consumer, partitions = await self._assigned_reader(topics)
        starts = starts or {}
        try:
            if partitions:
                await consumer.seek_to_beginning(*partitions)
            for tp in partitions:
                if starts.get((tp.topic, tp.partition), 0) > 0:
                    consumer.seek(tp, starts[(tp.topic, tp.partition)])
            remaining = {tp for tp in partitions
                         if ends.get((tp.topic, tp.partition), 0) > starts.get((tp.topic, tp.partition), 0)}
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=1000)
                out = []
                for tp, messages in batches.items():
                    end = ends[(tp.topic, tp.partition)]
                    out += [LogRecord(tp.topic, tp.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
                            for m in messages if m.offset < end]
                for tp in list(remaining):
                    if await consumer.position(tp) >= ends[(tp.topic, tp.partition)]:
                        remaining.discard(tp)
                if out:
                    yield out
        finally:
            await consumer.stop()


class KafkaLogConsumer:
    def __init__(self, bootstrap: str, group: str, topics: Sequence[str], start_position: StartPosition,
                 security: Mapping[str, Any] | None = None) -> None:
        self.bootstrap = bootstrap
        self.security = dict(security or {})
        self.group = group
        self.topics = list(topics)
        self.start_position = start_position
        self._consumer = None
        self._next_offsets: dict[tuple[str, int], int] = {}
        self._uncommitted: dict[tuple[str, int], int] = {}  # next offsets processed, not yet committed
        self._committed_at = 0.0
        self._pace = FetchPace()

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

        outer = self

        class SeekToRecordedPosition(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):  # noqa: D401
                outer._pace_fetches(outer._pace.rebalanced(time.monotonic()))

            async def on_partitions_assigned(self, assigned):
                outer._pace_fetches(outer._pace.rebalanced(time.monotonic()))
                for tp in assigned:
                    done = await outer.start_position(tp.topic, tp.partition)
                    # Nothing handled yet: offset 0 (a log that no longer starts there answers
                    # out of range, and auto_offset_reset takes the consumer to its start).
                    # Not seek_to_beginning: it waits for the fetch in flight, once per
                    # partition, and the group sends no heartbeat until this returns; on 27
                    # mostly empty partitions the session ran out and the broker expelled the
                    # member, again after every rejoin.
                    outer._consumer.seek(tp, 0 if done is None else done + 1)

        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=200,
            fetch_max_wait_ms=BUSY_FETCH_WAIT_MS,
            fetch_min_bytes=BUSY_FETCH_MIN_BYTES,
            # The fetcher wakes on every event it waits for (a fetch answered, records taken, a
            # seek, a new assignment, a metadata refresh, a node's backoff); this is only its
            # safety tick (aiokafka's 0.2 s woke every process five times a second at rest, and
            # one held fetch lasts this long anyway).
            consumer_timeout_ms=QUIET_FETCH_WAIT_MS,
            **self.security,
        )
        await self._consumer.start()
        self._consumer.subscribe(self.topics, listener=SeekToRecordedPosition())

    def _pace_fetches(self, pace: tuple[int, int]) -> None:
        """The broker's wait and minimum bytes for the consumer's next fetch (`FetchPace`).
        aiokafka reads both from its fetcher for every request it builds and has no public
        setter; `fetch_pace` reads them back."""
        fetcher = getattr(self._consumer, "_fetcher", None)
        if fetcher is not None:
            fetcher._fetch_max_wait_ms, fetcher._fetch_min_bytes = pace  # noqa: SLF001

    def fetch_pace(self) -> tuple[int, int]:
        fetcher = self._consumer._fetcher  # noqa: SLF001 - see _pace_fetches
        return fetcher._fetch_max_wait_ms, fetcher._fetch_min_bytes  # noqa: SLF001

    async def stop(self) -> None:
        if self._consumer is not None:
            if self._uncommitted:  # bounded: a broker that is away must not hold up a stop
                try:
                    await asyncio.wait_for(self._commit(), timeout=2.0)
                except asyncio.TimeoutError:
                    pass
            await self._consumer.stop()
            self._consumer = None

    async def fetch(self, timeout: float) -> list[LogRecord]:
        deadline = time.monotonic() + timeout
        while True:
            wait = max(0.0, min(deadline - time.monotonic(), self._pace.look_again_within()))
            batches = await self._consumer.getmany(timeout_ms=int(wait * 1000))
            records: list[LogRecord] = []
            for tp, messages in batches.items():
                for m in messages:
                    records.append(
                        LogRecord(tp.topic, tp.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
                    )
                    self._next_offsets[(tp.topic, tp.partition)] = m.offset + 1
            # Set before the fetcher runs again (no await in between), so its next request uses it.
            now = time.monotonic()
            self._pace_fetches(self._pace.fetched(now, bool(records)))
            if records or now >= deadline:
                return records

    async def mark_processed(self, records: Sequence[LogRecord]) -> None:
        # The authoritative position is the tracking record in the service's store; the group
        # offset is committed too so that ops tools show the group's lag, but at most once per
        # COMMIT_INTERVAL (and on stop), not after every batch: each commit costs the broker a write.
        for r in records:
            self._uncommitted[(r.topic, r.partition)] = r.offset + 1
        if self._uncommitted and time.monotonic() - self._committed_at >= COMMIT_INTERVAL:
            await self._commit()

    async def _commit(self) -> None:
        from aiokafka.structs import OffsetAndMetadata, TopicPartition

        offsets, self._uncommitted = self._uncommitted, {}
        self._committed_at = time.monotonic()
        try:
            await self._consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "")
                                         for (t, p), o in offsets.items()})
        except Exception:  # a rebalance in progress; the tracking record is what counts
            pass

    def lag(self) -> dict[tuple[str, int], int]:
        result = {}
        if self._consumer is None:
            return result
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            position = self._next_offsets.get((tp.topic, tp.partition))
            if high is not None and position is not None:
                result[(tp.topic, tp.partition)] = max(0, high - position)
        return result

"""The event log services publish to and consume from.

Two implementations with the same semantics (ordered partitions, offsets, consumers that start
from a position they were given): Kafka for the stack, a SQLite-backed log for the embedded
default. Consumers never rely on the log to remember their position: they are handed the
position recorded beside their own state, so a restart resumes from a record, not a guess.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Protocol, Sequence

from service_runtime.wakeup import Signal, Waiter

COMMIT_INTERVAL = 1.0  # seconds between a consumer group's offset commits (informational, see below)

# Every service has its topic, even one that publishes nothing yet (notifications), so readers of
# every topic need no exceptions.
SERVICES = ("orders", "purchasing", "warehouse", "logistics", "claims", "fraud", "payments", "notifications")


def topic_for(service: str, namespace: str = "") -> str:
    """`kongfu.<service>.events`; a namespace (tests, a second environment) prefixes it."""
    return f"{namespace + '.' if namespace else ''}kongfu.{service}.events"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


# Topics a service's `streams` role publishes on beside its own (fraud's velocity verdicts).
STREAM_PRODUCERS = ("fraud-streams",)


def all_topics(namespace: str = "") -> tuple[str, ...]:
    events = tuple(topic_for(s, namespace) for s in SERVICES + STREAM_PRODUCERS)
    return events + tuple(dead_letter_topic(t) for t in events)

Headers = tuple[tuple[str, bytes], ...]
# Given (topic, partition), the last offset already processed, or None to start at the beginning.
StartPosition = Callable[[str, int], Awaitable[int | None]]


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = ()


@dataclass(frozen=True)
class LogRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers = ()

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None


class LogConsumer(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def fetch(self, timeout: float) -> list[LogRecord]: ...
    async def mark_processed(self, records: Sequence[LogRecord]) -> None: ...
    def lag(self) -> dict[tuple[str, int], int]: ...


class EventLog(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        """Returns once every record is durably in the log (acks=all)."""
    def consumer(self, group: str, topics: Sequence[str], start_position: StartPosition) -> LogConsumer: ...
    async def end_offsets(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """Per partition, the offset the next record will get (a snapshot of the end)."""
    def read_from_beginning(self, topics: Sequence[str], ends: dict[tuple[str, int], int],
                            starts: dict[tuple[str, int], int] | None = None) -> AsyncIterator[list[LogRecord]]:
        """Every record from offset 0 (or `starts`, the first offset to read) up to `ends`, in
        batches, without a consumer group."""


# --------------------------------------------------------------------------- Kafka


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
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic
        from aiokafka.errors import TopicAlreadyExistsError

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-admin",
                                    **self.security)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [t for t in topics if t not in existing]
            if missing:
                try:
                    await admin.create_topics(
                        [NewTopic(name=t, num_partitions=self.partitions, replication_factor=1) for t in missing]
                    )
                except TopicAlreadyExistsError:
                    pass  # another process created them first
            await self._wait_for_leaders(admin, list(topics))
        finally:
            await admin.close()

    @staticmethod
    async def _wait_for_leaders(admin, topics: list[str], timeout: float = 30.0) -> None:
        """A created topic reaches the brokers' metadata a moment later; a consumer that subscribes
        before that is assigned no partitions and keeps none until its next metadata refresh
        (minutes), so start-up waits until every partition of every topic has a leader."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            described = await admin.describe_topics(topics)
            if all(t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
                   for t in described):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"topics without partition leaders after {timeout:.0f} s")
            await asyncio.sleep(0.1)

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

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

        outer = self

        class SeekToRecordedPosition(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):  # noqa: D401
                return None

            async def on_partitions_assigned(self, assigned):
                for tp in assigned:
                    done = await outer.start_position(tp.topic, tp.partition)
                    if done is None:
                        await outer._consumer.seek_to_beginning(tp)
                    else:
                        outer._consumer.seek(tp, done + 1)

        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=200,
            **self.security,
        )
        await self._consumer.start()
        self._consumer.subscribe(self.topics, listener=SeekToRecordedPosition())

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
        batches = await self._consumer.getmany(timeout_ms=int(timeout * 1000))
        records: list[LogRecord] = []
        for tp, messages in batches.items():
            for m in messages:
                records.append(
                    LogRecord(tp.topic, tp.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
                )
                self._next_offsets[(tp.topic, tp.partition)] = m.offset + 1
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


# --------------------------------------------------------------------------- in-process


class LocalEventLog:
    """A durable single-partition log in one SQLite file, for the embedded default."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.appended = Signal()  # wakes this process's consumers instead of their polling

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS records (topic TEXT, partition INTEGER, offset INTEGER, "
                "key BLOB, value BLOB, headers TEXT, PRIMARY KEY (topic, partition, offset))"
            )
            self._conn = conn
        return self._conn

    async def start(self) -> None:
        self._connection()

    async def stop(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _append(self, records: Sequence[OutgoingRecord]) -> None:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for r in records:
                    row = conn.execute(
                        "SELECT COALESCE(MAX(offset), -1) + 1 FROM records WHERE topic=? AND partition=0",
                        (r.topic,),
                    ).fetchone()
                    headers = json.dumps([[k, v.decode("utf-8", "replace")] for k, v in r.headers])
                    conn.execute(
                        "INSERT INTO records VALUES (?, 0, ?, ?, ?, ?)", (r.topic, row[0], r.key, r.value, headers)
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        self.appended.notify()

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        if records:
            await asyncio.to_thread(self._append, records)

    def read(self, topics: Sequence[str], after: dict[str, int], limit: int) -> list[LogRecord]:
        with self._lock:
            conn = self._connection()
            out: list[LogRecord] = []
            for topic in topics:
                rows = conn.execute(
                    "SELECT offset, key, value, headers FROM records WHERE topic=? AND partition=0 AND offset>? "
                    "ORDER BY offset LIMIT ?",
                    (topic, after.get(topic, -1), limit),
                ).fetchall()
                for offset, key, value, headers in rows:
                    decoded = tuple((k, v.encode()) for k, v in json.loads(headers))
                    out.append(LogRecord(topic, 0, offset, key, value, decoded))
            return out

    def end_offsets_inclusive(self, topics: Sequence[str]) -> dict[str, int]:
        with self._lock:
            conn = self._connection()
            return {
                t: conn.execute(
                    "SELECT COALESCE(MAX(offset), -1) FROM records WHERE topic=? AND partition=0", (t,)
                ).fetchone()[0]
                for t in topics
            }

    def consumer(self, group: str, topics: Sequence[str], start_position: StartPosition) -> "LocalLogConsumer":
        return LocalLogConsumer(self, topics, start_position)

    async def end_offsets(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        ends = await asyncio.to_thread(self.end_offsets_inclusive, topics)
        return {(t, 0): last + 1 for t, last in ends.items()}

    async def read_from_beginning(self, topics: Sequence[str], ends: dict[tuple[str, int], int],
                                  starts: dict[tuple[str, int], int] | None = None
                                  ) -> AsyncIterator[list[LogRecord]]:
        after = {t: (starts or {}).get((t, 0), 0) - 1 for t in topics}
        topics = [t for t in topics if ends.get((t, 0), 0) > after[t] + 1]
        while topics:
            batch = [r for r in await asyncio.to_thread(self.read, topics, after, 1000)
                     if r.offset < ends.get((r.topic, 0), 0)]
            if not batch:
                return
            for r in batch:
                after[r.topic] = max(after[r.topic], r.offset)
            yield batch


@dataclass
class LocalLogConsumer:
    log: LocalEventLog
    topics: Sequence[str]
    start_position: StartPosition
    positions: dict[str, int] = field(default_factory=dict)
    appended: Waiter | None = None

    async def start(self) -> None:
        for topic in self.topics:
            done = await self.start_position(topic, 0)
            self.positions[topic] = -1 if done is None else done

    async def stop(self) -> None:
        if self.appended is not None:
            self.appended.close()
            self.appended = None

    async def fetch(self, timeout: float) -> list[LogRecord]:
        if self.appended is None:
            self.appended = self.log.appended.waiter()
        self.appended.clear()  # before reading: an append during the read ends the wait at once
        records = await asyncio.to_thread(self.log.read, self.topics, self.positions, 200)
        if not records:
            # Woken by an append of this process; another process's appends (a second embedded
            # process on the same file) are seen after `timeout` at the latest.
            await self.appended.wait(None, timeout)
            return []
        for r in records:
            self.positions[r.topic] = max(self.positions[r.topic], r.offset)
        return records

    async def mark_processed(self, records: Sequence[LogRecord]) -> None:
        return None

    def lag(self) -> dict[tuple[str, int], int]:
        ends = self.log.end_offsets_inclusive(self.topics)
        return {(t, 0): max(0, ends[t] - self.positions.get(t, -1)) for t in self.topics}

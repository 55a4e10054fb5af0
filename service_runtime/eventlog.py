"""The event log services publish to and consume from.

Two implementations with the same semantics (ordered partitions, offsets, consumers that start
from a position they were given): Kafka for the stack, a SQLite-backed log for the embedded
default (`kafka_log.py` and `local_log.py`; this module holds what both share). Consumers never rely on the log to remember their position: they are handed the
position recorded beside their own state, so a restart resumes from a record, not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, Protocol, Sequence

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

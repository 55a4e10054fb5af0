"""Running projections: turning fetched records into a projection's rows, and the projector that
keeps a service's projections up to date from the live topics with one consumer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from service_runtime.consumer import Rejected, decode, tracking_name
from service_runtime.following import Follower, follow
from service_runtime.eventlog import EventLog, LogRecord
from service_runtime.metrics import PROJECTION_DELAY, PROJECTION_LAG
from service_runtime.on_loop import SHORT_BATCH, run_short
from service_runtime.projections import LIVE, Entry, Projection, ProjectionStore


@dataclass
class PreparedBatch:
    """A batch of records turned into rows (pure work, no I/O): what `ProjectionStore.apply` writes."""
    entries: list[Entry]
    positions: dict[str, int]
    occurred: list[datetime]


def prepare_batch(projection: Projection, records: Sequence[LogRecord],
                  until: datetime | None = None) -> PreparedBatch:
    """Decode records (one contract validation each) and turn them into entries; events that
    occurred after `until` are left out (a projection as it was at that time)."""
    prepared = PreparedBatch([], {}, [])
    for record in records:
        prepared.positions[tracking_name(record.topic, record.partition)] = record.offset
        try:
            envelope, payload = decode(record)
        except Rejected:
            continue  # the owning service's consumer parks it in the dead-letter topic
        if until is not None and envelope.occurred_at > until:
            continue
        prepared.entries += projection.entries(envelope, payload)
        prepared.occurred.append(envelope.occurred_at)
    return prepared


def write_batch(store: ProjectionStore, projection: Projection, prepared: PreparedBatch,
                tables: str = LIVE, label: str | None = None) -> None:
    """Entries and positions in one transaction (the rebuild tables under `label`, or the live ones)."""
    store.apply(label or projection.name, prepared.entries, prepared.positions, tables)


def observe_delays(projection: Projection, occurred: Sequence[datetime]) -> None:
    now = datetime.now(timezone.utc)  # a metric may read the clock; the rows never do
    for at in occurred:
        PROJECTION_DELAY.labels(projection.name).observe((now - at).total_seconds())


class ProjectorRunner:
    """Keeps a service's projections up to date from the live topics with one consumer: each
    fetched record is decoded once and every projection reading its topic gets it; a batch is
    written in one transaction. Starts from the earliest position any of them recorded."""

    def __init__(self, projections: Sequence[tuple[Projection, Sequence[str]]], store: ProjectionStore,
                 event_log: EventLog, group: str) -> None:
        self.projections = [(projection, set(topics)) for projection, topics in projections]
        self.store, self.event_log, self.group = store, event_log, group
        self.topics = sorted({t for _, topics in self.projections for t in topics})
        self._applied: dict[tuple[str, str], int] = {}  # (projection, source) -> position at (re)start

    async def recorded_position(self, topic: str, partition: int) -> int | None:
        source = tracking_name(topic, partition)
        positions = []
        for projection, topics in self.projections:
            if topic in topics:
                position = await asyncio.to_thread(self.store.position, projection.name, source)
                self._applied[(projection.name, source)] = -1 if position is None else position
                positions.append(position)
        return None if None in positions else min(positions)

    def prepare(self, records: Sequence[LogRecord]) -> list[tuple[Projection, PreparedBatch]]:
        decoded = []
        for record in records:
            try:
                decoded.append((record, *decode(record)))
            except Rejected:
                decoded.append((record, None, None))  # the owning service's consumer parks it
        batches = []
        for projection, topics in self.projections:
            prepared = PreparedBatch([], {}, [])
            for record, envelope, payload in decoded:
                if record.topic not in topics:
                    continue
                source = tracking_name(record.topic, record.partition)
                prepared.positions[source] = record.offset
                if envelope is None or record.offset <= self._applied.get((projection.name, source), -1):
                    continue  # malformed, or applied before this consumer started
                prepared.entries += projection.entries(envelope, payload)
                prepared.occurred.append(envelope.occurred_at)
            if prepared.positions:
                batches.append((projection, prepared))
        return batches

    def apply(self, records: Sequence[LogRecord]) -> None:
        batches = self.prepare(records)
        self.store.apply_many([(projection.name, prepared.entries, prepared.positions)
                               for projection, prepared in batches])
        for projection, prepared in batches:
            observe_delays(projection, prepared.occurred)

    def follower(self) -> Follower:
        """The projector as one part of a process's consumer (see `service_runtime/following.py`)."""

        async def handle_batch(records: list[LogRecord]) -> None:
            await run_short(f"{self.group} projector", lambda: self.apply(records), short=len(records) <= SHORT_BATCH)

        def report_lag(lags: dict[tuple[str, int], int]) -> None:
            for projection, topics in self.projections:
                PROJECTION_LAG.labels(projection.name).set(sum(lag for (t, _), lag in lags.items() if t in topics))

        return Follower(f"{self.group}-projector", frozenset(self.topics), self.recorded_position, handle_batch,
                        report_lag)

    async def run(self, stop: asyncio.Event) -> None:
        await follow(self.event_log, self.group, [self.follower()], stop)

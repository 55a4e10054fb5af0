"""Running projections: turning fetched records into a projection's rows, the projector that
keeps a service's projections up to date from the live topics with one consumer, and that
consumer shared with the service's worker when one process runs both."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from service_runtime.consumer import ConsumerRunner, Rejected, decode, follow, tracking_name
from service_runtime.eventlog import EventLog, LogRecord
from service_runtime.metrics import PROJECTION_DELAY, PROJECTION_LAG
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

    async def run(self, stop: asyncio.Event) -> None:
        async def handle_batch(records: list[LogRecord]) -> None:
            await asyncio.to_thread(self.apply, records)

        await follow(self.event_log, self.group, self.topics, self.recorded_position, handle_batch,
                     self.report_lag, stop)

    def report_lag(self, lags: dict[tuple[str, int], int]) -> None:
        for projection, topics in self.projections:
            PROJECTION_LAG.labels(projection.name).set(sum(lag for (t, _), lag in lags.items() if t in topics))


class WorkerAndProjector:
    """A process that runs both a service's worker and its projector reads their topics once: one
    consumer (its own group, `worker_and_projector_group`), each record fetched and delivered to
    both. The projector's batch goes first, so a timeline is not held up by the worker's
    handlers. Each part keeps its own positions (the worker's tracking records in the event
    store, the projections' in their tables); the consumer starts from the earlier of the two
    and each part skips what it had done before."""

    def __init__(self, worker: ConsumerRunner, projector: ProjectorRunner, group: str) -> None:
        self.worker, self.projector, self.group = worker, projector, group
        self.worker_topics, self.projector_topics = set(worker.topics), set(projector.topics)
        self.topics = sorted(self.worker_topics | self.projector_topics)
        self._handled: dict[tuple[str, int], int] = {}  # the worker's position per partition at (re)start

    async def recorded_position(self, topic: str, partition: int) -> int | None:
        positions = []
        if topic in self.worker_topics:
            done = await self.worker.recorded_position(topic, partition)
            self._handled[(topic, partition)] = -1 if done is None else done
            positions.append(done)
        if topic in self.projector_topics:
            positions.append(await self.projector.recorded_position(topic, partition))
        return None if None in positions else min(positions)

    async def handle_batch(self, records: list[LogRecord]) -> None:
        for_projector = [r for r in records if r.topic in self.projector_topics]
        if for_projector:
            await asyncio.to_thread(self.projector.apply, for_projector)
        for_worker = [r for r in records if r.topic in self.worker_topics
                      and r.offset > self._handled.get((r.topic, r.partition), -1)]
        if for_worker:
            await self.worker.handle_records(for_worker)

    def report_lag(self, lags: dict[tuple[str, int], int]) -> None:
        self.worker.report_lag({tp: lag for tp, lag in lags.items() if tp[0] in self.worker_topics})
        self.projector.report_lag(lags)

    async def run(self, stop: asyncio.Event) -> None:
        await follow(self.worker.event_log, self.group, self.topics, self.recorded_position, self.handle_batch,
                     self.report_lag, stop)

"""The consumer runner: reacts to other services' events, exactly once in effect.

For each message: validate it against its contract (a message that fails goes to `<topic>.dlq`
with the reason and the runner carries on), call the service's handler inside a trace scope, and
save the handler's new events together with the tracking record (topic:partition, offset) and the
event id, in one transaction. The reactions to one fetch's messages share that transaction
(`service_runtime/reactions.py`), or fall back to one each when sharing could change an outcome.
A redelivered offset or a re-published event id changes nothing.
A message of a type the service has no handler for writes nothing, nor does a reaction that
changes nothing (an order not placed yet, a credit given before): the batch's last such position
per partition is recorded at its end, at most once a second per partition. Lost in a crash, the
message is only handled again, and changes nothing, or what it changes on the state by then,
once: a reaction that changes something is saved with the event's id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Tracking
from pydantic import ValidationError

from contracts import ContractError, Envelope, EventPayload, parse_payload
from service_runtime.aggregate_cache import ConsistentCacheRepository, Unsaved
from service_runtime.errors import DomainError
from service_runtime.eventlog import EventLog, LogRecord, OutgoingRecord, dead_letter_topic
from service_runtime.following import Follower, follow
from service_runtime.metrics import (
    CONSUMER_LAG,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATE,
    EVENTS_UNCHANGED,
    HANDLER_LATENCY,
    REACTIONS_SAVED,
)
from service_runtime.on_loop import SHORT_BATCH, run_short
from service_runtime.reactions import UNCHANGED, Reactions, SaveApart
from service_runtime.store import AlreadyProcessed, ServiceApplication
from service_runtime.tracing import trace

# A handler gets the validated payload and its envelope and returns the aggregates it changed.
Handler = Callable[[EventPayload, Envelope], Iterable[Any]]
log = logging.getLogger("kongfu.consumer")

MAX_CONFLICT_RETRIES = 5
# A partition's position past messages without a handler is recorded at most this often: under
# load a write per batch cost more than reading those messages again after a restart.
POSITIONS_ONLY_EVERY = 1.0
COUNTERS = {"consumed": EVENTS_CONSUMED, "duplicate": EVENTS_DUPLICATE, "unchanged": EVENTS_UNCHANGED}


class Rejected(Exception):
    """The message can't be handled, ever; it belongs in the dead-letter topic."""


def tracking_name(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


def decode(record: LogRecord) -> tuple[Envelope, EventPayload]:
    try:
        envelope = Envelope.model_validate_json(record.value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors())
        raise Rejected(f"envelope invalid: {problems}") from exc
    try:
        payload = parse_payload(envelope.type, envelope.schema_version, envelope.payload)
    except ContractError as exc:
        raise Rejected(str(exc)) from exc
    return envelope, payload


class ConsumerRunner:
    def __init__(self, service: str, app: ServiceApplication, event_log: EventLog,
                 topics: Sequence[str], handlers: Mapping[str, Handler], group: str | None = None) -> None:
        self.service = service
        self.app = app
        self.event_log = event_log
        self.topics = list(topics)
        self.handlers = dict(handlers)
        self.group = group or f"kongfu.{service}"
        self._applied: dict[tuple[str, int], int] = {}  # position at (re)start, per partition
        self._positions_only_at: dict[str, float] = {}  # tracking name -> monotonic time last recorded

    async def recorded_position(self, topic: str, partition: int) -> int | None:
        return await asyncio.to_thread(self.app.recorder.max_tracking_id, tracking_name(topic, partition))

    def follower(self) -> Follower:
        """This worker as one part of a process's consumer (see `service_runtime/following.py`)."""

        async def start_position(topic: str, partition: int) -> int | None:
            position = await self.recorded_position(topic, partition)
            self._applied[(topic, partition)] = -1 if position is None else position
            return position

        async def handle_new(records: list[LogRecord]) -> None:
            # A consumer shared with a projector may start before this worker's position.
            new = [r for r in records if r.offset > self._applied.get((r.topic, r.partition), -1)]
            if new:
                await self.handle_batch(new)

        def report_lag(lags: dict[tuple[str, int], int]) -> None:
            for (topic, partition), lag in lags.items():
                CONSUMER_LAG.labels(self.service, topic, str(partition)).set(lag)

        return Follower(f"{self.service}-worker", frozenset(self.topics), start_position, handle_new, report_lag)

    async def run(self, stop: asyncio.Event) -> None:
        await follow(self.event_log, self.group, [self.follower()], stop)

    async def handle(self, record: LogRecord) -> str:
        """"handled", "duplicate", "dead-lettered", or "not handled" (a type without a handler:
        validated, and nothing written but its position)."""
        return (await self.handle_batch([record]))[0]

    async def handle_batch(self, records: Sequence[LogRecord]) -> list[str]:
        """Each record's outcome (see `handle`). The records are handled in order, on the event
        loop for a short batch (`run_short`), else on one worker thread, one hand-off per batch
        rather than per record: a hand-off wakes a thread, which costs more than decoding a
        record. A rejected record stops the run there: it is parked in the dead-letter topic
        before its position (or a later one) can be recorded, then the rest of the batch goes on."""
        outcomes: list[str] = []
        while len(outcomes) < len(records):
            rest = records[len(outcomes):]
            done, rejection = await run_short(f"{self.service} consumer", lambda: self._handle_in_order(rest),
                                              short=len(rest) <= SHORT_BATCH)
            outcomes += done
            if rejection is not None:
                record, reason, envelope = rejection
                await self.dead_letter(record, reason, envelope)
                await asyncio.to_thread(self._record_position_only,
                                        Tracking(tracking_name(record.topic, record.partition), record.offset))
                outcomes.append("dead-lettered")
        return outcomes

    def _handle_in_order(self, records: Sequence[LogRecord]
                         ) -> tuple[list[str], tuple[LogRecord, str, Envelope | None] | None]:
        """Outcomes up to the first rejected record (returned with its reason, not yet parked).
        The records' reactions are saved together, in one transaction, when they can be: if that
        save fails (an aggregate moved on, an event handled before), nothing of it was written, and
        the records are handled again one by one, each saved on its own with its retries."""
        if len(records) > 1 and isinstance(self.app.repository, ConsistentCacheRepository):
            try:
                return self._handle_each(records, together=True)
            except SaveApart as exc:
                log.info("%s: a batch's reactions saved one by one: %s", self.service, exc)
                REACTIONS_SAVED.labels(self.service, "apart").inc()
        return self._handle_each(records, together=False)

    def _handle_each(self, records: Sequence[LogRecord], together: bool
                     ) -> tuple[list[str], tuple[LogRecord, str, Envelope | None] | None]:
        """Records of types this service does not handle, and reactions that change nothing, are
        not saved: one position per partition past them is carried by the joint save, or else
        recorded at the end."""
        outcomes: list[str] = []
        read: dict[tuple[str, int], int] = {}  # partition -> its last record handled (or not) so far
        passed: dict[tuple[str, int], int] = {}  # partition -> its last record, if that changed nothing
        counted: list[tuple[str, str, str, float]] = []  # (counter, topic, type, seconds), once saved
        rejection = None
        batch = Reactions()
        with self.app.repository.seeing_unsaved() if together else contextlib.nullcontext(Unsaved()) as unsaved:
            for record in records:
                try:
                    envelope, payload = decode(record)
                except Rejected as exc:
                    rejection = (record, str(exc), None)
                    break
                partition = (record.topic, record.partition)
                if envelope.type not in self.handlers:
                    counted.append(("consumed", record.topic, "", 0.0))
                    passed[partition] = read[partition] = record.offset
                    outcomes.append("not handled")
                    continue
                started = time.perf_counter()
                try:
                    outcome = (batch.add(self._react(envelope, payload), unsaved, envelope.event_id) if together
                               else self._apply(envelope, payload, Tracking(tracking_name(*partition), record.offset)))
                except Rejected as exc:
                    rejection = (record, str(exc), envelope)
                    break
                read[partition] = record.offset
                if outcome == UNCHANGED:
                    passed[partition], outcome = record.offset, "handled"
                    counted.append(("unchanged", record.topic, "", 0.0))
                else:
                    passed.pop(partition, None)  # the saved record's tracking row is past them already
                counted.append(("duplicate" if outcome == "duplicate" else "consumed", record.topic, envelope.type,
                                time.perf_counter() - started))
                outcomes.append(outcome)
            if together and batch.save(self.app, unsaved, [Tracking(tracking_name(*p), o) for p, o in read.items()]):
                now = time.monotonic()  # the joint save recorded them: no statement of their own
                self._positions_only_at.update({tracking_name(*p): now for p in passed})
                passed.clear()
                REACTIONS_SAVED.labels(self.service, "together").inc()
        for counter, topic, event_type, seconds in counted:
            if event_type:
                HANDLER_LATENCY.labels(self.service, event_type).observe(seconds)
            COUNTERS[counter].labels(self.service, topic).inc()
        self._record_positions_only([Tracking(tracking_name(topic, partition), offset)
                                     for (topic, partition), offset in passed.items()])
        return outcomes, rejection

    def _react(self, envelope: Envelope, payload: EventPayload) -> list[Any]:
        """The aggregates the event's handler changed (a refusal is a rejection)."""
        with trace(correlation_id=envelope.correlation_id or envelope.order_id,
                   causation_id=envelope.event_id, actor=f"system:{self.service}"):
            try:
                return list(self.handlers[envelope.type](payload, envelope))
            except (DomainError, AggregateNotFoundError) as exc:
                raise Rejected(f"{envelope.type} {envelope.event_id} refused: {exc}") from exc

    def _apply(self, envelope: Envelope, payload: EventPayload, tracking: Tracking) -> str:
        for attempt in range(MAX_CONFLICT_RETRIES):
            changed = self._react(envelope, payload)
            if not any(aggregate.pending_events for aggregate in changed):
                return UNCHANGED
            try:
                self.app.save_reaction(*changed, tracking=tracking, event_id=envelope.event_id)
                return "handled"
            except AlreadyProcessed:
                self._record_position_only(tracking)
                return "duplicate"
            except IntegrityError:
                # An aggregate moved on under us (a concurrent command): reload and try again.
                if attempt == MAX_CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _record_position_only(self, tracking: Tracking) -> None:
        try:
            self.app.recorder.insert_tracking(tracking)
        except IntegrityError:
            pass  # already at or past this offset

    def _record_positions_only(self, trackings: Sequence[Tracking]) -> None:
        now = time.monotonic()
        for tracking in trackings:
            if now - self._positions_only_at.get(tracking.application_name, -POSITIONS_ONLY_EVERY) \
                    >= POSITIONS_ONLY_EVERY:
                self._positions_only_at[tracking.application_name] = now
                self._record_position_only(tracking)

    async def dead_letter(self, record: LogRecord, reason: str, envelope: Envelope | None = None) -> None:
        log.warning("dead-lettering %s:%s@%s: %s", record.topic, record.partition, record.offset, reason)
        headers = tuple(h for h in record.headers if h[0] not in {"dlq_reason", "dlq_source"}) + (
            ("dlq_reason", reason.encode()),
            ("dlq_source", json.dumps({"topic": record.topic, "partition": record.partition,
                                       "offset": record.offset, "group": self.group}).encode()),
        )
        await self.event_log.publish(
            [OutgoingRecord(dead_letter_topic(record.topic), record.key, record.value, headers)]
        )
        EVENTS_DEAD_LETTERED.labels(self.service, record.topic).inc()

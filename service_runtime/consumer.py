"""The consumer runner: reacts to other services' events, exactly once in effect.

For each message: validate it against its contract (a message that fails goes to `<topic>.dlq`
with the reason and the runner carries on), call the service's handler inside a trace scope, and
save the handler's new events together with the tracking record (topic:partition, offset) and the
event id, in one transaction. A redelivered offset or a re-published event id changes nothing.
A message of a type the service has no handler for writes nothing: the batch's last such
position per partition is recorded once at its end (lost in a crash, it is only read again).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Tracking
from pydantic import ValidationError

from contracts import ContractError, Envelope, EventPayload, parse_payload
from service_runtime.errors import DomainError
from service_runtime.eventlog import EventLog, LogRecord, OutgoingRecord, StartPosition, dead_letter_topic
from service_runtime.metrics import (
    CONSUMER_LAG,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATE,
    HANDLER_LATENCY,
)
from service_runtime.store import AlreadyProcessed, ServiceApplication
from service_runtime.tracing import trace

# A handler gets the validated payload and its envelope and returns the aggregates it changed.
Handler = Callable[[EventPayload, Envelope], Iterable[Any]]
log = logging.getLogger("kongfu.consumer")

MAX_CONFLICT_RETRIES = 5
# A fetch returns as soon as records arrive; at rest it waits this long (then stop is looked at).
FETCH_WAIT_SECONDS = 1.0


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


async def follow(event_log: EventLog, group: str, topics: Sequence[str], start_position: StartPosition,
                 handle_batch: Callable[[list[LogRecord]], Awaitable[None]],
                 report_lag: Callable[[dict[tuple[str, int], int]], None], stop: asyncio.Event) -> None:
    """Feed batches to `handle_batch` until stopped. On any failure (database or broker away) the
    consumer is rebuilt and resumes from the positions recorded beside the handler's state."""
    consumer = event_log.consumer(group, topics, start_position)
    await consumer.start()
    try:
        while not stop.is_set():
            try:
                records = await consumer.fetch(timeout=FETCH_WAIT_SECONDS)
                if records:
                    await handle_batch(records)
                    await consumer.mark_processed(records)
                report_lag(consumer.lag())
            except Exception:
                log.exception("consumer %s failed; resuming from recorded positions", group)
                await consumer.stop()
                await asyncio.sleep(1.0)
                consumer = event_log.consumer(group, topics, start_position)
                await consumer.start()
    finally:
        await consumer.stop()


class ConsumerRunner:
    def __init__(self, service: str, app: ServiceApplication, event_log: EventLog,
                 topics: Sequence[str], handlers: Mapping[str, Handler], group: str | None = None) -> None:
        self.service = service
        self.app = app
        self.event_log = event_log
        self.topics = list(topics)
        self.handlers = dict(handlers)
        self.group = group or f"kongfu.{service}"

    async def recorded_position(self, topic: str, partition: int) -> int | None:
        return await asyncio.to_thread(self.app.recorder.max_tracking_id, tracking_name(topic, partition))

    async def run(self, stop: asyncio.Event) -> None:
        async def handle_batch(records: list[LogRecord]) -> None:
            # Records of types this service does not handle change nothing: instead of a
            # transaction each, the batch ends with one position per partition past them.
            passed: dict[tuple[str, int], int] = {}
            for record in records:
                if await self.handle(record) == "not handled":
                    passed[(record.topic, record.partition)] = record.offset
                else:
                    passed.pop((record.topic, record.partition), None)
            if passed:
                await asyncio.to_thread(self._record_positions_only, [
                    Tracking(tracking_name(topic, partition), offset) for (topic, partition), offset in passed.items()])

        def report_lag(lags: dict[tuple[str, int], int]) -> None:
            for (topic, partition), lag in lags.items():
                CONSUMER_LAG.labels(self.service, topic, str(partition)).set(lag)

        await follow(self.event_log, self.group, self.topics, self.recorded_position, handle_batch, report_lag, stop)

    async def handle(self, record: LogRecord) -> str:
        """"handled", "duplicate", "dead-lettered", or "not handled" (a type without a handler:
        validated, and nothing written; the caller records its position with the batch's)."""
        tracking = Tracking(tracking_name(record.topic, record.partition), record.offset)
        try:
            envelope, payload = decode(record)
        except Rejected as exc:
            await self.dead_letter(record, str(exc))
            await asyncio.to_thread(self._record_position_only, tracking)
            return "dead-lettered"
        if envelope.type not in self.handlers:
            EVENTS_CONSUMED.labels(self.service, record.topic).inc()
            return "not handled"
        started = time.perf_counter()
        try:
            outcome = await asyncio.to_thread(self._apply, envelope, payload, tracking)
        except Rejected as exc:
            await self.dead_letter(record, str(exc), envelope)
            await asyncio.to_thread(self._record_position_only, tracking)
            return "dead-lettered"
        HANDLER_LATENCY.labels(self.service, envelope.type).observe(time.perf_counter() - started)
        metric = EVENTS_DUPLICATE if outcome == "duplicate" else EVENTS_CONSUMED
        metric.labels(self.service, record.topic).inc()
        return outcome

    def _apply(self, envelope: Envelope, payload: EventPayload, tracking: Tracking) -> str:
        handler = self.handlers[envelope.type]
        for attempt in range(MAX_CONFLICT_RETRIES):
            with trace(correlation_id=envelope.correlation_id or envelope.order_id,
                       causation_id=envelope.event_id, actor=f"system:{self.service}"):
                try:
                    changed = list(handler(payload, envelope))
                except (DomainError, AggregateNotFoundError) as exc:
                    raise Rejected(f"{envelope.type} {envelope.event_id} refused: {exc}") from exc
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
        for tracking in trackings:
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

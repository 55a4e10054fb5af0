"""The outbox relay: follows a service's notification log and publishes it to Kafka.

At-least-once: a batch is published and acknowledged (acks=all, idempotent producer) before its
last notification id is recorded, in the service's own store, as the relay's position. A crash
between the two re-publishes the batch with the same event ids, which consumers recognise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from eventsourcing.persistence import Tracking

from service_runtime.eventlog import EventLog
from service_runtime.metrics import EVENTS_PUBLISHED, RELAY_LAG
from service_runtime.publishing import Publication
from service_runtime.store import ServiceApplication
from service_runtime.wakeup import SAFETY_POLL_SECONDS

RELAY_POSITION = "outbox-relay"
KILLED_EXIT_CODE = 137  # what a SIGKILLed process reports
# After a failed batch the relay waits, doubling up to the maximum: a broker away for minutes
# is not hammered, and one back is used within BACKOFF_MAX seconds.
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 8.0
PUBLISH_TIMEOUT = 20.0  # seconds for Kafka to acknowledge a batch before it counts as failed
log = logging.getLogger("kongfu.relay")


class OutboxRelay:
    def __init__(self, app: ServiceApplication, publication: Publication, event_log: EventLog,
                 batch_size: int = 500, exit_after_publish: bool = False) -> None:
        self.app = app
        self.publication = publication
        self.event_log = event_log
        self.batch_size = batch_size
        self.exit_after_publish = exit_after_publish  # a fault drill, see Settings
        self.failing_since: float | None = None  # monotonic time of the first failure in a row
        self.last_error = ""
        self.waiting = 0  # events stored but not yet published
        self.batch_was_full = False  # the last read stopped at batch_size, not at the log's end
        # The position this relay recorded last, so a wake reads the log without asking the store
        # for it first; None (at start, after any failure) reads it from the store again.
        self._recorded: int | None = None

    def position(self) -> int:
        return self.app.recorder.max_tracking_id(RELAY_POSITION) or 0

    def lag(self) -> int:
        return max(0, (self.app.recorder.max_notification_id() or 0) - self.position())

    def _next_batch(self, after: int | None = None) -> tuple[list, int | None]:
        """The records of the notifications after `after` (by default, after the recorded position,
        which is remembered from then on)."""
        if after is None:
            after = self._recorded = self.position()
        return self._records_of(self.app.recorder.select_notifications(start=after + 1, limit=self.batch_size))

    def _handed_over(self) -> tuple[list, int | None]:
        """The records of what this process's saves committed right after the recorded position,
        if all of it is at hand (see `handoff`); else none, and the store is read."""
        if self._recorded is None:
            return [], None
        notifications = self.app.committed.following(self._recorded, self.batch_size)
        return self._records_of(notifications) if notifications else ([], None)

    def _records_of(self, notifications) -> tuple[list, int | None]:
        records = []
        for notification in notifications:
            envelope = self.publication.envelope(self.app.mapper.to_domain_event(notification))
            if envelope is not None:
                records.append(self.publication.record(envelope))
        last = notifications[-1].id if notifications else None
        self.batch_was_full = len(notifications) >= self.batch_size
        return records, last

    def _recorded_then_next(self, published: int) -> tuple[list, int | None]:
        """The position recorded past a published batch, and the next batch read: one statement
        on PostgreSQL, in one hand-off to a thread (each wakes a thread: more CPU than a query)."""
        notifications = self.app.recorder.insert_tracking_then_select(Tracking(RELAY_POSITION, published),
                                                                       self.batch_size)
        self._recorded = published
        return self._records_of(notifications)

    async def publish_once(self) -> int:
        """Publish batch after batch until a read finds the end of the log; returns how many
        notifications it moved past. A batch's position is recorded only once Kafka has it."""
        moved = 0
        records, last = self._handed_over()
        if last is None:
            records, last = await asyncio.to_thread(self._next_batch, self._recorded)
        while last is not None:
            # Bounded: a producer waiting for a broker that is away would otherwise wait unseen.
            await asyncio.wait_for(self.event_log.publish(records), timeout=PUBLISH_TIMEOUT)
            if self.exit_after_publish and records:
                log.warning("fault drill: exiting after publishing %d events, before recording position %d",
                            len(records), last)
                os._exit(KILLED_EXIT_CODE)  # no shutdown hooks, no position: as if killed right here
            EVENTS_PUBLISHED.labels(self.publication.service).inc(len(records))
            moved += max(1, len(records))
            full = self.batch_was_full
            records, last = await asyncio.to_thread(self._recorded_then_next, last)
            if full:  # a backlog: show how much is left
                self.waiting = await asyncio.to_thread(self.lag)
                RELAY_LAG.labels(self.publication.service).set(self.waiting)
        self.waiting = 0
        RELAY_LAG.labels(self.publication.service).set(0)
        return moved

    async def republish(self, start: int, stop: int | None = None) -> int:
        """Publish stored events again (an audit or a recovery); the relay's position is untouched.

        Consumers recognise every event id they have handled, so this is safe to run at any time.
        """
        count = 0
        while True:
            notifications = await asyncio.to_thread(
                self.app.recorder.select_notifications, start=start, limit=self.batch_size, stop=stop)
            if not notifications:
                return count
            envelopes = [self.publication.envelope(self.app.mapper.to_domain_event(n)) for n in notifications]
            records = [self.publication.record(e) for e in envelopes if e is not None]
            await self.event_log.publish(records)
            count += len(records)
            start = notifications[-1].id + 1

    def trouble(self) -> str | None:
        """What keeps the relay from publishing, for /readyz; None while it publishes."""
        if self.failing_since is None:
            return None
        return (f"relay {self.publication.service}: publishing has failed for "
                f"{time.monotonic() - self.failing_since:.0f} s ({self.last_error}); {self.waiting} events wait "
                "in the outbox and will be published when the broker is back")

    async def run(self, stop: asyncio.Event, safety_poll: float = SAFETY_POLL_SECONDS) -> None:
        """Publish until stopped. At rest the relay sleeps until the application signals a save
        (in-process, or a PostgreSQL NOTIFY relayed by `wakeup.listen`), or the safety poll."""
        new_events = self.app.new_events.waiter()
        try:
            await self._run(stop, new_events, safety_poll)
        finally:
            new_events.close()

    async def _run(self, stop: asyncio.Event, new_events, safety_poll: float) -> None:
        backoff = BACKOFF_FIRST
        while not stop.is_set():
            new_events.clear()  # before reading: a commit during the reads wakes the next round
            try:
                await self.publish_once()  # ends with a read that found nothing more
                if self.failing_since is not None:
                    log.info("relay publishing again after %.0f s", time.monotonic() - self.failing_since)
                self.failing_since, backoff = None, BACKOFF_FIRST
            except Exception as exc:  # broker or database away: keep the position, back off, try again
                self._recorded = None
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                    log.exception("relay batch failed; retrying with backoff")
                else:
                    log.warning("relay batch failed again (%s); next try in %.1f s", exc.__class__.__name__, backoff)
                self.last_error = f"{exc.__class__.__name__}: {str(exc)[:120]}"
                await self._report_lag_while_failing()
                try:
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                except asyncio.TimeoutError:
                    pass
                backoff = min(BACKOFF_MAX, backoff * 2)
                continue
            await new_events.wait(stop, safety_poll)

    async def _report_lag_while_failing(self) -> None:
        try:  # the outbox keeps growing while the broker is away; the metric should show it
            self.waiting = await asyncio.to_thread(self.lag)
            RELAY_LAG.labels(self.publication.service).set(self.waiting)
        except Exception:  # noqa: BLE001 - the database may be away too; the last figure stays
            pass

"""The outbox relay: follows a service's notification log and publishes it to Kafka.

At-least-once: a batch is published and acknowledged (acks=all, idempotent producer) before its
last notification id is recorded, in the service's own store, as the relay's position. A crash
between the two re-publishes what was published since, with the same event ids, which consumers
recognise. The position is recorded at most once every `POSITION_EVERY` seconds while events
flow, and at once when they stop for that long or the relay stops: a write per batch cost one
statement and one hand-off to a thread for each save, for a re-publication nobody sees.
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
POSITION_EVERY = 1.0  # seconds: the most a crash re-publishes, consumers passing over each event
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
        # The position this relay recorded last, and the last notification id it published (ahead
        # of it until the next write), so a wake reads on without asking the store for either;
        # None (at start, after any failure) reads the recorded position from the store again.
        self._recorded: int | None = None
        self._published: int | None = None
        self.position_every = POSITION_EVERY
        self._position_due: float | None = None  # monotonic time by which to record `_published`

    def position(self) -> int:
        return self.app.recorder.max_tracking_id(RELAY_POSITION) or 0

    def lag(self) -> int:
        published = self._published if self._published is not None else self.position()
        return max(0, (self.app.recorder.max_notification_id() or 0) - published)

    def _next_batch(self, after: int | None = None) -> tuple[list, int | None]:
        """The records of the notifications after `after` (by default, after the recorded position,
        which is remembered from then on)."""
        if after is None:
            after = self._recorded = self._published = self.position()
        return self._records_of(self.app.recorder.select_notifications(start=after + 1, limit=self.batch_size))

    def _handed_over(self) -> tuple[list, int | None]:
        """The records of what this process's saves committed right after the recorded position,
        if all of it is at hand (see `handoff`); else none, and the store is read."""
        if self._published is None:
            return [], None
        notifications = self.app.committed.following(self._published, self.batch_size)
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
        self._recorded, self._position_due = published, None
        return self._records_of(notifications)

    def _record_position(self) -> None:
        published = self._published
        self.app.recorder.insert_tracking(Tracking(RELAY_POSITION, published))
        self._recorded, self._position_due = published, None

    async def record_position(self) -> None:
        """Record the position past what was published, if it is not recorded yet."""
        if self._published is not None and self._published != self._recorded:
            await asyncio.to_thread(self._record_position)

    def _more_to_read(self) -> bool:
        """After a published batch that its process's saves handed over: the store is read on
        only for a backlog (the batch was full) or a gap (saves are held past the run). A save
        of another process wakes the relay with its own NOTIFY, and a wake reads the store
        unless the hand-off covers it; so nothing committed is passed over."""
        return self.batch_was_full or self.app.committed.holds_any()

    async def publish_once(self) -> int:
        """Publish batch after batch until nothing more is handed over or read; returns how many
        notifications it moved past. A batch's position is recorded only once Kafka has it, at
        the end if `position_every` has passed since the last record (see `position_wait`)."""
        moved = 0
        records, last = self._handed_over()
        if last is None:
            records, last = await asyncio.to_thread(self._next_batch, self._published)
        while last is not None:
            # Bounded: a producer waiting for a broker that is away would otherwise wait unseen.
            await asyncio.wait_for(self.event_log.publish(records), timeout=PUBLISH_TIMEOUT)
            if self.exit_after_publish and records:
                log.warning("fault drill: exiting after publishing %d events, before recording position %d",
                            len(records), last)
                os._exit(KILLED_EXIT_CODE)  # no shutdown hooks, no position: as if killed right here
            EVENTS_PUBLISHED.labels(self.publication.service).inc(len(records))
            moved += max(1, len(records))
            self._published = last
            if self._position_due is None:
                self._position_due = time.monotonic() + self.position_every
            full = self.batch_was_full
            records, last = self._handed_over()
            if last is None and self._more_to_read():
                if time.monotonic() >= self._position_due:
                    records, last = await asyncio.to_thread(self._recorded_then_next, self._published)
                else:
                    records, last = await asyncio.to_thread(self._next_batch, self._published)
            if full:  # a backlog: show how much is left
                self.waiting = await asyncio.to_thread(self.lag)
                RELAY_LAG.labels(self.publication.service).set(self.waiting)
        if self._position_due is not None and time.monotonic() >= self._position_due:
            await self.record_position()
        self.waiting = 0
        RELAY_LAG.labels(self.publication.service).set(0)
        return moved

    def position_wait(self, safety_poll: float) -> tuple[float, bool]:
        """How long the relay may sleep, and whether it wakes then only to record its position."""
        if self._position_due is None:
            return safety_poll, False
        wait = max(0.0, self._position_due - time.monotonic())
        return (wait, True) if wait < safety_poll else (safety_poll, False)

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
        try:  # what was published is not published again after a restart
            await self.record_position()
        except Exception:  # noqa: BLE001 - the store is away: the next start re-publishes, once more
            log.warning("relay position not recorded at stop; a restart re-publishes from the last one")

    async def _run(self, stop: asyncio.Event, new_events, safety_poll: float) -> None:
        backoff = BACKOFF_FIRST
        position_only = False  # woken by the time to record the position, not by a save
        while not stop.is_set():
            try:
                if position_only:  # a wake that came meanwhile stays set: the next wait ends at once
                    await self.record_position()
                else:
                    new_events.clear()  # before reading: a commit during the reads wakes the next round
                    await self.publish_once()  # ends when nothing more is handed over or read
                if self.failing_since is not None:
                    log.info("relay publishing again after %.0f s", time.monotonic() - self.failing_since)
                self.failing_since, backoff = None, BACKOFF_FIRST
            except Exception as exc:  # broker or database away: keep the position, back off, try again
                self._recorded = self._published = self._position_due = None
                position_only = False
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
            wait, for_position = self.position_wait(safety_poll)
            position_only = not await new_events.wait(stop, wait) and for_position

    async def _report_lag_while_failing(self) -> None:
        try:  # the outbox keeps growing while the broker is away; the metric should show it
            self.waiting = await asyncio.to_thread(self.lag)
            RELAY_LAG.labels(self.publication.service).set(self.waiting)
        except Exception:  # noqa: BLE001 - the database may be away too; the last figure stays
            pass

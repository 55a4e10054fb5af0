"""The outbox relay: follows a service's notification log and publishes it to Kafka.

At-least-once: a batch is published and acknowledged (acks=all, idempotent producer) before its
last notification id is recorded, in the service's own store, as the relay's position. A crash
between the two re-publishes the batch with the same event ids, which consumers recognise.
"""

from __future__ import annotations

import asyncio
import logging
import os

from eventsourcing.persistence import Tracking

from service_runtime.eventlog import EventLog
from service_runtime.metrics import EVENTS_PUBLISHED, RELAY_LAG
from service_runtime.publishing import Publication
from service_runtime.store import ServiceApplication

RELAY_POSITION = "outbox-relay"
KILLED_EXIT_CODE = 137  # what a SIGKILLed process reports
log = logging.getLogger("kongfu.relay")


class OutboxRelay:
    def __init__(self, app: ServiceApplication, publication: Publication, event_log: EventLog,
                 batch_size: int = 500, exit_after_publish: bool = False) -> None:
        self.app = app
        self.publication = publication
        self.event_log = event_log
        self.batch_size = batch_size
        self.exit_after_publish = exit_after_publish  # a fault drill, see Settings

    def position(self) -> int:
        return self.app.recorder.max_tracking_id(RELAY_POSITION) or 0

    def lag(self) -> int:
        return max(0, (self.app.recorder.max_notification_id() or 0) - self.position())

    def _next_batch(self) -> tuple[list, int | None]:
        notifications = self.app.recorder.select_notifications(
            start=self.position() + 1, limit=self.batch_size
        )
        records = []
        for notification in notifications:
            envelope = self.publication.envelope(self.app.mapper.to_domain_event(notification))
            if envelope is not None:
                records.append(self.publication.record(envelope))
        last = notifications[-1].id if notifications else None
        return records, last

    async def publish_once(self) -> int:
        """Publish the next batch; returns how many notifications it moved past."""
        records, last = await asyncio.to_thread(self._next_batch)
        if last is None:
            RELAY_LAG.labels(self.publication.service).set(0)
            return 0
        await self.event_log.publish(records)
        if self.exit_after_publish and records:
            log.warning("fault drill: exiting after publishing %d events, before recording position %d",
                        len(records), last)
            os._exit(KILLED_EXIT_CODE)  # no shutdown hooks, no position: as if killed right here
        await asyncio.to_thread(self.app.recorder.insert_tracking, Tracking(RELAY_POSITION, last))
        EVENTS_PUBLISHED.labels(self.publication.service).inc(len(records))
        return max(1, len(records))

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

    async def run(self, stop: asyncio.Event, idle_sleep: float = 0.05) -> None:
        while not stop.is_set():
            try:
                moved = await self.publish_once()
                RELAY_LAG.labels(self.publication.service).set(await asyncio.to_thread(self.lag))
            except Exception:  # broker or database away: keep the position, try again
                log.exception("relay batch failed; retrying")
                moved = 0
                await asyncio.sleep(1.0)
            if not moved:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
                except asyncio.TimeoutError:
                    pass

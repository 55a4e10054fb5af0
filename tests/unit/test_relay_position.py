"""The relay asks its store for its position once, then reads on from the position it recorded
itself; after a failed batch it asks the store again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from eventsourcing.persistence import Tracking

from contracts import EventPayload
from service_runtime.local_log import LocalEventLog
from service_runtime.publishing import Publication
from service_runtime.relay import RELAY_POSITION, OutboxRelay
from service_runtime.settings import Settings
from service_runtime.store import store_env
from tests import timer_cases


class Created(EventPayload):  # a contract local to this test
    event_type = "reminders.Created"
    text: str


def _setup(tmp_path):
    app = timer_cases.RemindersApp(env=store_env("reminders", Settings(mode="embedded", var_dir=tmp_path)))
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    publication = Publication("reminders", {timer_cases.Reminder.Created: Created})
    relay = OutboxRelay(app, publication, log)
    asked = []
    max_tracking_id = app.recorder.max_tracking_id
    app.recorder.max_tracking_id = lambda name: asked.append(name) or max_tracking_id(name)
    return app, log, publication.topic, relay, asked


def _published(log, topic) -> list[str]:
    return [r.header("event_id") for r in log.read([topic], {}, 100)]


def test_the_relay_reads_on_from_the_position_it_recorded(tmp_path):
    app, log, topic, relay, asked = _setup(tmp_path)
    try:
        for n in range(3):
            app.create(f"reminder {n}", timedelta(hours=1))
            assert asyncio.run(relay.publish_once()) == 1
        assert len(asked) == 1  # at the first wake only
        asyncio.run(relay.record_position())
        assert relay.position() == app.recorder.max_notification_id()
        published = _published(log, topic)
        assert len(published) == 3 and len(set(published)) == 3
    finally:
        app.close()


def test_a_relay_whose_position_moved_on_in_the_store_reads_it_again(tmp_path):
    """Another relay of the same service recorded a position past this one's batch: the position
    this relay remembered is refused, so it asks the store, instead of publishing the same batch
    again after every back-off."""
    app, log, topic, relay, asked = _setup(tmp_path)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop, safety_poll=60))
        await asyncio.to_thread(app.create, "first", timedelta(hours=1))
        while len(_published(log, topic)) < 1:
            await asyncio.sleep(0.01)
        # The other relay's process saves an event and publishes it first; then this one is woken.
        other = timer_cases.RemindersApp(env=store_env("reminders", Settings(mode="embedded", var_dir=tmp_path)))
        await asyncio.to_thread(other.create, "second", timedelta(hours=1))
        await asyncio.to_thread(other.recorder.insert_tracking,
                                Tracking(RELAY_POSITION, other.recorder.max_notification_id()))
        other.close()
        app.new_events.notify()
        for _ in range(300):
            await asyncio.sleep(0.01)
            if relay.failing_since is None and len(_published(log, topic)) >= 2:
                break
        await asyncio.sleep(1.5)  # three back-offs' worth: a relay stuck on its old position republishes
        stop.set()
        await asyncio.wait_for(running, timeout=5)

    try:
        asyncio.run(scenario())
        published = _published(log, topic)
        assert len(published) == 2  # this relay published the second event once, not after every back-off
        assert relay.failing_since is None
        assert relay.position() == app.recorder.max_notification_id()
    finally:
        app.close()


def test_while_events_flow_the_position_is_recorded_once_per_interval_and_at_rest_at_once(tmp_path):
    """A save per round would write a position per round; the relay writes one per
    `position_every`, another when the saves stop, and a last one when it stops."""
    app, log, topic, relay, _ = _setup(tmp_path)
    relay.position_every = 0.4
    writes = []
    insert_tracking = app.recorder.insert_tracking
    app.recorder.insert_tracking = lambda tracking: (writes.append(tracking.notification_id),
                                                     insert_tracking(tracking))[1]

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop, safety_poll=60))
        for n in range(24):  # about 1.2 s of saves, each waking the relay
            await asyncio.to_thread(app.create, f"reminder {n}", timedelta(hours=1))
            await asyncio.sleep(0.05)
        assert len(_published(log, topic)) == 24
        assert 1 <= len(writes) <= 5, writes  # not one per save
        await asyncio.sleep(0.6)  # no save wakes it now: the time to record does
        assert relay.position() == app.recorder.max_notification_id()
        settled = len(writes)
        await asyncio.sleep(0.6)
        assert len(writes) == settled  # at rest nothing more is written
        await asyncio.to_thread(app.create, "last", timedelta(hours=1))
        while len(_published(log, topic)) < 25:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(running, timeout=5)

    try:
        asyncio.run(scenario())
        assert relay.position() == app.recorder.max_notification_id()  # recorded as it stopped
        assert len(set(_published(log, topic))) == 25
    finally:
        app.close()

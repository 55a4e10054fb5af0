"""The relay publishes what its own process's saves committed without reading it back, and reads
the store whenever something it was not handed comes first: nothing is passed over."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from eventsourcing.persistence import Notification

from service_runtime.handoff import CommittedNotifications
from service_runtime.settings import Settings
from service_runtime.store import store_env
from tests import timer_cases
from tests.unit.test_relay_position import _published, _setup


def _n(i: int) -> Notification:
    return Notification(id=i, originator_id=None, originator_version=1, topic="t", state=b"")


def test_only_an_unbroken_run_after_the_position_is_handed_over():
    committed = CommittedNotifications(kept=5)
    committed.add([_n(3), _n(5)])
    assert committed.following(1, 10) == []  # 2 was saved elsewhere: the store is read
    assert [n.id for n in committed.following(2, 10)] == [3]  # 4 is missing: the run ends at 3
    committed.add([_n(4), _n(6)])
    assert [n.id for n in committed.following(3, 2)] == [4, 5]  # at most the limit
    assert [n.id for n in committed.following(5, 10)] == [6]
    assert committed.following(6, 10) == []  # taken ones are forgotten
    committed.add(_n(i) for i in range(10, 20))  # nobody takes them: the newest `kept` stay
    assert committed.following(9, 100) == [] and [n.id for n in committed.following(14, 100)] == [15, 16, 17, 18, 19]


def test_the_relay_publishes_its_process_s_saves_without_reading_them_back(tmp_path):
    app, log, topic, relay, _ = _setup(tmp_path)
    reads = []
    next_batch = relay._next_batch
    relay._next_batch = lambda after=None: (reads.append(after), next_batch(after))[1]
    try:
        app.create("first", timedelta(hours=1))
        assert asyncio.run(relay.publish_once()) == 1  # the first wake reads: no position known yet
        for n in range(3):
            app.create(f"reminder {n}", timedelta(hours=1))
            assert asyncio.run(relay.publish_once()) == 1
        assert len(reads) == 1, f"{len(reads)} reads for saves the relay's process made itself"
        assert relay.position() < app.recorder.max_notification_id()  # recorded within `position_every`
        asyncio.run(relay.record_position())
        assert relay.position() == app.recorder.max_notification_id()
        assert len(set(_published(log, topic))) == 4
    finally:
        app.close()


def test_a_save_of_another_process_in_between_is_read_and_nothing_is_passed_over(tmp_path):
    app, log, topic, relay, _ = _setup(tmp_path)
    other = timer_cases.RemindersApp(env=store_env("reminders", Settings(mode="embedded", var_dir=tmp_path)))
    try:
        app.create("first", timedelta(hours=1))
        asyncio.run(relay.publish_once())
        other.create("elsewhere", timedelta(hours=1))  # the next notification id: not handed over
        app.create("here, after it", timedelta(hours=1))
        assert asyncio.run(relay.publish_once()) == 2  # read from the store, both, in order
        app.create("here again", timedelta(hours=1))
        other.create("elsewhere again", timedelta(hours=1))  # after the handed-over one
        assert asyncio.run(relay.publish_once()) == 1  # the run; nothing held past it
        assert asyncio.run(relay.publish_once()) == 1  # the other's wake: not handed over, so read
        app.create("here, third", timedelta(hours=1))
        other.create("elsewhere, third", timedelta(hours=1))
        app.create("here, after the third", timedelta(hours=1))  # held past a gap: read on at once
        assert asyncio.run(relay.publish_once()) == 3
        published = _published(log, topic)
        assert len(published) == 8 and len(set(published)) == 8
        asyncio.run(relay.record_position())
        assert relay.position() == app.recorder.max_notification_id()
    finally:
        other.close()
        app.close()

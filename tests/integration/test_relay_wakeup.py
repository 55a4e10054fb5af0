"""The relay at rest sleeps; it wakes on the NOTIFY the recorder sends with each insert; commits
made while its LISTEN connection is down are published once it listens again (the reconnection
signals, so the 30 s safety poll is not what finds them), and with no listener at all the safety
poll finds them. Many writers committing at once (other
processes: separate applications on the same store, so only PostgreSQL can wake the relay) must
not make it skip a single event; nor must many threads of the relay's own process, whose saves
hand it their notifications out of order (`service_runtime/handoff.py`), while other processes
commit between them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import psycopg
from eventsourcing.domain import event

from contracts import EventPayload
from service_runtime import wakeup
from service_runtime.kafka_log import KafkaEventLog
from service_runtime.publishing import Publication, event_id_for
from service_runtime.relay import OutboxRelay
from service_runtime.settings import Settings
from service_runtime.store import ServiceApplication, ensure_schema, store_env
from service_runtime.tracing import TracedAggregate
from tests.support import envelopes, wait_until

WRITERS, SAVES_EACH = 8, 25


class Counter_(TracedAggregate):
    @event("Created")
    def __init__(self, writer: int) -> None:
        self.writer = writer
        self.count = 0

    @event("Ticked")
    def tick(self) -> None:
        self.count += 1


class Ticked(EventPayload):  # a contract local to this test: not registered, not exported
    event_type = "ticks.Ticked"
    writer: int = -1  # only on the first event of a counter


class TicksApp(ServiceApplication):
    name = "ticks"


def _setup(stack, namespace):
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"], kafka_bootstrap=stack["kafka"])
    ensure_schema("ticks", settings)
    env = store_env("ticks", settings)
    publication = Publication("orders", {Counter_.Event: Ticked}, namespace)  # the orders topic of this namespace
    return settings, env, publication


def _write(app, saves: int, writer: int, pause: float = 0.0) -> None:
    counter = Counter_(writer=writer)
    app.save(counter)
    for _ in range(saves - 1):
        time.sleep(pause)
        counter.tick()
        app.save(counter)


def _write_elsewhere(env, saves: int, writer: int) -> None:
    app = TicksApp(env=env)  # its own application and connections: another process, as far as the relay knows
    try:
        _write(app, saves, writer)
    finally:
        app.close()


def _published_ids(stack, publication) -> Counter:
    return Counter(str(e.event_id) for e in envelopes(stack["kafka"], publication.topic))


def _stored_ids(app) -> set[str]:
    notifications = app.recorder.select_notifications(start=1, limit=100_000)
    return {event_id_for("orders", n.originator_id, n.originator_version) for n in notifications}


async def _run_relay(relay_app, publication, settings, safety_poll, body, listen=True):
    event_log = KafkaEventLog(settings.kafka_bootstrap, namespace=settings.namespace)
    await event_log.start()
    relay = OutboxRelay(relay_app, publication, event_log)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop, safety_poll=safety_poll))]
    if listen:
        tasks.append(asyncio.create_task(wakeup.listen(
            settings.pg_dsn, relay_app.recorder.channel_name, relay_app.new_events, stop)))
    try:
        await asyncio.sleep(0.5)  # the relay has read the empty outbox and sleeps
        await body(relay)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        await event_log.stop()


async def _write_all(writers: list[threading.Thread], apps=()) -> None:
    for thread in writers:
        thread.start()
    for thread in writers:
        await asyncio.to_thread(thread.join)
    for app in apps:
        app.close()


async def _caught_up(relay, relay_app, deadline: float) -> bool:
    while relay.position() < relay_app.recorder.max_notification_id() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return relay.position() == relay_app.recorder.max_notification_id()


def _each_published_once(stack, publication, relay_app, count: int) -> None:
    published = wait_until(lambda: (p := _published_ids(stack, publication)) and len(p) >= count and p,
                           what="every committed event on the topic")
    assert set(published) == _stored_ids(relay_app)  # none skipped
    assert set(published.values()) == {1}  # and none twice


def test_concurrent_commits_are_all_published_once_woken_by_notify(stack, namespace):
    settings, env, publication = _setup(stack, namespace)
    relay_app = TicksApp(env=env)

    async def body(relay):
        apps = [TicksApp(env=env) for _ in range(WRITERS)]  # one after the other: each creates the tables
        started = time.monotonic()
        await _write_all([threading.Thread(target=_write, args=(app, SAVES_EACH, w)) for w, app in enumerate(apps)],
                         apps)
        assert len(_stored_ids(relay_app)) == WRITERS * SAVES_EACH
        # The safety poll is 10 minutes: only the notifications can have woken the relay this fast.
        assert await _caught_up(relay, relay_app, time.monotonic() + 30)
        assert time.monotonic() - started < 60

    try:
        asyncio.run(_run_relay(relay_app, publication, settings, safety_poll=600, body=body))
        _each_published_once(stack, publication, relay_app, WRITERS * SAVES_EACH)
    finally:
        relay_app.close()


def test_concurrent_commits_of_the_relay_s_own_threads_and_of_others_are_all_published_once(stack, namespace):
    settings, env, publication = _setup(stack, namespace)
    relay_app = TicksApp(env=env)
    handed_over = []
    following = relay_app.committed.following
    relay_app.committed.following = lambda *args: (run := following(*args), handed_over.append(len(run)))[0]

    async def body(relay):
        others = [TicksApp(env=env) for _ in range(2)]  # one after the other: each creates the tables
        # Paced a little, as requests and reactions come: the relay catches up between saves.
        writers = [threading.Thread(target=_write, args=(relay_app, SAVES_EACH, w, 0.01)) for w in range(WRITERS)]
        writers += [threading.Thread(target=_write, args=(app, SAVES_EACH, WRITERS + w, 0.03))
                    for w, app in enumerate(others)]
        await _write_all(writers, others)
        assert len(_stored_ids(relay_app)) == (WRITERS + 2) * SAVES_EACH
        deadline = time.monotonic() + 30
        assert await _caught_up(relay, relay_app, deadline)
        runs_before = len(handed_over)
        await asyncio.to_thread(_write, relay_app, 1, WRITERS + 2)  # the relay caught up: handed over whole
        assert await _caught_up(relay, relay_app, deadline)
        assert handed_over[runs_before:].count(1) == 1, handed_over[runs_before:]

    try:
        asyncio.run(_run_relay(relay_app, publication, settings, safety_poll=600, body=body))
        _each_published_once(stack, publication, relay_app, (WRITERS + 2) * SAVES_EACH + 1)
    finally:
        relay_app.close()


def test_commits_while_the_listen_connection_is_down_or_absent_are_all_published(stack, namespace):
    settings, env, publication = _setup(stack, namespace)
    relay_app = TicksApp(env=env)

    async def body(relay):
        # The LISTEN connection is dropped (as a database restart or a network cut would), then
        # another process commits: whatever NOTIFY it sends reaches no one. The safety poll is
        # ten minutes here: only `listen` signalling its reconnection can wake the relay in time.
        with psycopg.connect(settings.pg_dsn, autocommit=True) as admin:
            killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE %s",
                                   (f"LISTEN %{relay_app.recorder.channel_name}%",)).fetchall()
        assert killed, "the relay's LISTEN connection was not found"
        await asyncio.to_thread(_write_elsewhere, env, 5, 0)
        deadline = time.monotonic() + 30
        while relay.position() < relay_app.recorder.max_notification_id() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert relay.position() == relay_app.recorder.max_notification_id()

    async def no_listener(relay):
        await asyncio.to_thread(_write_elsewhere, env, 3, 1)  # nobody listens at all: only the safety poll finds these
        await asyncio.sleep(0.5)
        assert relay.position() < relay_app.recorder.max_notification_id()  # asleep: not polling every 50 ms
        deadline = time.monotonic() + 30
        while relay.position() < relay_app.recorder.max_notification_id() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert relay.position() == relay_app.recorder.max_notification_id()

    try:
        asyncio.run(_run_relay(relay_app, publication, settings, safety_poll=600, body=body))
        asyncio.run(_run_relay(relay_app, publication, settings, safety_poll=5.0, body=no_listener, listen=False))
        published = wait_until(lambda: (p := _published_ids(stack, publication)) and len(p) >= 8 and p,
                               what="the events committed while no notification could arrive")
        assert set(published) == _stored_ids(relay_app)
    finally:
        relay_app.close()

"""Nothing polls at rest in the embedded default: the relay, the timer scheduler and the local
log's consumers sleep (safety polls of ten minutes here) and are woken by the save or the
append that gives them work."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from service_runtime.clock import SYSTEM_CLOCK, ManualClock
from service_runtime.eventlog import OutgoingRecord
from service_runtime.local_log import LocalEventLog
from service_runtime.publishing import Publication
from service_runtime.relay import OutboxRelay
from service_runtime.settings import Settings
from service_runtime.store import store_env
from service_runtime.timers import TimerScheduler
from tests import timer_cases

ASLEEP = 600.0  # a safety poll no test waits for


def _reminders(tmp_path):
    return timer_cases.RemindersApp(env=store_env("reminders", Settings(mode="embedded", var_dir=tmp_path)))


def _within(seconds: float, condition) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_save_wakes_the_sleeping_relay_at_once(tmp_path):
    from contracts import EventPayload

    class Created(EventPayload):  # a contract local to this test
        event_type = "reminders.Created"
        text: str

    app = _reminders(tmp_path)
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    topic = Publication("reminders", {timer_cases.Reminder.Created: Created}).topic
    relay = OutboxRelay(app, Publication("reminders", {timer_cases.Reminder.Created: Created}), log)

    async def scenario() -> float:
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop, safety_poll=ASLEEP))
        await asyncio.sleep(0.3)  # the relay found nothing and sleeps
        started = time.monotonic()
        await asyncio.to_thread(app.create, "wake up", timedelta(hours=1))
        while not log.read([topic], {}, 10):
            await asyncio.sleep(0.01)
        took = time.monotonic() - started
        stop.set()
        await asyncio.wait_for(running, timeout=5)
        return took

    try:
        assert asyncio.run(scenario()) < 2.0
    finally:
        app.close()


def test_a_local_log_consumer_sleeps_until_an_append():
    import tempfile
    from pathlib import Path

    async def scenario(path: Path) -> tuple[float, list]:
        log = LocalEventLog(path)

        async def nothing_recorded(topic, partition):
            return None

        consumer = log.consumer("g", ["t"], nothing_recorded)
        await consumer.start()
        fetching = asyncio.create_task(consumer.fetch(timeout=ASLEEP))
        await asyncio.sleep(0.2)
        assert not fetching.done()  # asleep, not polling
        started = time.monotonic()
        await log.publish([OutgoingRecord("t", b"k", b"v")])
        await asyncio.wait_for(fetching, timeout=5)
        took = time.monotonic() - started
        records = fetching.result() or await consumer.fetch(timeout=ASLEEP)
        await consumer.stop()
        await log.stop()
        return took, records

    with tempfile.TemporaryDirectory() as tmp:
        took, records = asyncio.run(scenario(Path(tmp) / "log.sqlite"))
    assert took < 2.0
    assert [r.value for r in records] == [b"v"]


def test_the_scheduler_sleeps_until_the_next_due_timer(tmp_path):
    app = _reminders(tmp_path)
    try:
        scheduler = TimerScheduler(app, {timer_cases.PURPOSE: app.on_due}, SYSTEM_CLOCK, service="reminders")
        assert scheduler.seconds_to_next(30.0) == 30.0  # nothing pending: only the safety poll
        app.create("soon", timedelta(seconds=3))
        scheduler.refresh()
        assert 2.0 < scheduler.seconds_to_next(30.0) <= 3.0
        app.create("overdue", timedelta(seconds=-1))
        scheduler.refresh()
        assert scheduler.seconds_to_next(30.0) == scheduler.poll_interval  # due but not fired: retried soon
        jumping = TimerScheduler(app, {}, ManualClock(), service="reminders")
        jumping.refresh()
        assert jumping.seconds_to_next(30.0) <= jumping.poll_interval  # a test's clock may jump at any time
    finally:
        app.close()


def test_a_timer_scheduled_while_the_scheduler_sleeps_fires_on_time(tmp_path):
    app = _reminders(tmp_path)
    scheduler = TimerScheduler(app, {timer_cases.PURPOSE: app.on_due}, SYSTEM_CLOCK, service="reminders")

    async def scenario():
        stop = asyncio.Event()
        running = asyncio.create_task(scheduler.run(stop, safety_poll=ASLEEP))
        await asyncio.sleep(0.3)  # nothing pending: asleep for the safety poll
        reminder = await asyncio.to_thread(app.create, "in a moment", timedelta(seconds=0.5))
        fired = await asyncio.to_thread(_within, 5.0, lambda: app.repository.get(reminder.id).overdue_times)
        stop.set()
        await asyncio.wait_for(running, timeout=5)
        return fired

    try:
        assert asyncio.run(scenario())
    finally:
        app.close()


def test_a_burst_of_wakes_is_one_hand_off_to_the_loop_and_a_wake_after_it_is_not_lost():
    """A consumer's batch saves many times in a row: each save wakes the relay and the scheduler.
    The wakes given while one is on its way to the loop ride on it; a wake after the loop took it
    hands over one of its own, so a waiter that cleared and read meanwhile is woken again."""
    from service_runtime.wakeup import Signal

    async def scenario():
        loop = asyncio.get_running_loop()
        signal = Signal()
        waiter = signal.waiter()
        handed = []
        real = loop.call_soon_threadsafe
        ours = (waiter, waiter.event)  # to_thread's own result comes back this way too

        def counted(callback, *args):
            if getattr(callback, "__self__", None) in ours:
                handed.append(callback)
            return real(callback, *args)

        loop.call_soon_threadsafe = counted
        try:
            for _ in range(50):  # the loop is busy here, as it is while a batch saves
                signal.notify()
            assert await waiter.wait(None, 5.0)
            assert len(handed) == 1, "fifty saves in a burst, one hand-off to the loop"

            waiter.clear()  # the relay reads; a save commits after its read
            await asyncio.to_thread(signal.notify)
            assert await waiter.wait(None, 5.0), "the wake after the loop took the first one is lost"
            assert len(handed) == 2
        finally:
            loop.call_soon_threadsafe = real
            waiter.close()

    asyncio.run(scenario())


def test_the_scheduler_sleeps_through_saves_of_other_events_and_wakes_for_a_timer(tmp_path):
    """Every save of a process wakes its relay; the timer scheduler reads only timer events, so a
    save of other events leaves it asleep, and a save that schedules a timer still wakes it."""
    app = _reminders(tmp_path)
    scheduler = TimerScheduler(app, {timer_cases.PURPOSE: app.on_due}, SYSTEM_CLOCK, service="reminders")
    reads = []
    refresh = scheduler.refresh
    scheduler.refresh = lambda: (reads.append(1), refresh())[1]

    async def scenario():
        stop = asyncio.Event()
        running = asyncio.create_task(scheduler.run(stop, safety_poll=ASLEEP))
        await asyncio.sleep(0.3)  # its first read done, asleep for the safety poll
        read_at_start = len(reads)
        for n in range(10):  # saves without a timer: a reminder marked overdue by hand
            await asyncio.to_thread(lambda: app.save(timer_cases.Reminder(text=f"no deadline {n}")))
        await asyncio.sleep(0.3)
        reads_for_other_events = len(reads) - read_at_start
        reminder = await asyncio.to_thread(app.create, "in a moment", timedelta(seconds=0.3))
        fired = await asyncio.to_thread(_within, 5.0, lambda: app.repository.get(reminder.id).overdue_times)
        stop.set()
        await asyncio.wait_for(running, timeout=5)
        return reads_for_other_events, fired

    try:
        reads_for_other_events, fired = asyncio.run(scenario())
        assert reads_for_other_events == 0, f"{reads_for_other_events} reads for ten saves without a timer"
        assert fired, "the timer scheduled while the scheduler slept did not fire"
    finally:
        app.close()


def test_a_save_without_events_wakes_no_loop(tmp_path):
    """A reaction that changed nothing saves its position alone: no event for the relay to publish,
    no timer to index. It used to wake the relay, which read the store and found nothing."""
    from eventsourcing.persistence import Tracking

    app = _reminders(tmp_path)

    async def scenario():
        relay_waits, scheduler_waits = app.new_events.waiter(), app.new_events.waiter(reads={"timer topic"})
        await asyncio.to_thread(app.save_reaction, tracking=Tracking("kongfu.orders.events:0", 1), event_id="e-1")
        quiet = not await relay_waits.wait(None, 0.3) and not await scheduler_waits.wait(None, 0.01)
        await asyncio.to_thread(app.create, "with events", timedelta(hours=1))
        woken = await relay_waits.wait(None, 5.0)
        return quiet, woken

    try:
        quiet, woken = asyncio.run(scenario())
        assert quiet, "a save without events woke a loop"
        assert woken, "a save with events must wake the relay"
    finally:
        app.close()

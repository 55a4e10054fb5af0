"""The durable timer cases, run on SQLite (unit) and on PostgreSQL (integration): the same
abstract cases on each backend. A small application schedules a reminder's deadline with the
change that creates the reminder; its fire handler records the reminder as overdue."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from eventsourcing.domain import event

from service_runtime import timers
from service_runtime.clock import ManualClock
from service_runtime.store import ServiceApplication
from service_runtime.timers import Timer, TimerScheduler
from service_runtime.tracing import TracedAggregate

START = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
PURPOSE = "reminder.due"


class Reminder(TracedAggregate):
    @event("Created")
    def __init__(self, text: str) -> None:
        self.text = text
        self.overdue_times: list[datetime] = []

    @event("MarkedOverdue")
    def mark_overdue(self, at: datetime) -> None:
        self.overdue_times.append(at)


class RemindersApp(ServiceApplication):
    name = "reminders"

    def create(self, text: str, due_in: timedelta) -> Reminder:
        reminder = Reminder(text=text)
        timer = timers.schedule(self, PURPOSE, reminder.id, self.clock.now() + due_in, {"text": text})
        self.save(reminder, timer)
        return reminder

    def on_due(self, timer: Timer, now: datetime) -> list[Any]:
        reminder = self.repository.get(uuid.UUID(timer.subject))
        reminder.mark_overdue(now)
        return [reminder]


Open = Callable[[], RemindersApp]


def on_a_manual_clock(open_app: Open) -> tuple[ManualClock, RemindersApp]:
    clock = ManualClock(START)
    app = open_app()
    app.clock = clock
    return clock, app


def scheduler(app: RemindersApp, clock: ManualClock) -> TimerScheduler:
    return TimerScheduler(app, {PURPOSE: app.on_due}, clock, service="reminders")


def nothing_fires_before_its_time_and_it_fires_once_after(open_app: Open) -> None:
    clock, app = on_a_manual_clock(open_app)
    reminder = app.create("answer the ticket", timedelta(hours=24))
    other = app.create("later", timedelta(hours=48))
    runner = scheduler(app, clock)
    clock.advance(hours=23, minutes=59)
    assert runner.fire_due() == 0
    clock.advance(minutes=2)
    assert runner.fire_due() == 1
    assert runner.fire_due() == 0
    assert app.repository.get(reminder.id).overdue_times == [START + timedelta(hours=24, minutes=1)]
    assert app.repository.get(other.id).overdue_times == []
    fired = app.repository.get(timers.timer_id(PURPOSE, reminder.id))
    assert fired.status == timers.FIRED and fired.fired_at == clock.now()


def a_restart_neither_loses_nor_repeats_a_deadline(open_app: Open) -> None:
    clock, app = on_a_manual_clock(open_app)
    first = app.create("fires before the restart", timedelta(hours=1))
    second = app.create("falls due while the process is down", timedelta(hours=5))
    clock.advance(hours=2)
    assert scheduler(app, clock).fire_due() == 1
    app.close()

    clock.advance(hours=10)  # the process is down while the second deadline passes
    restarted = open_app()
    restarted.clock = clock
    runner = scheduler(restarted, clock)  # a fresh index, rebuilt from the store's log
    assert runner.fire_due() == 1
    assert scheduler(restarted, clock).fire_due() == 0
    assert len(restarted.repository.get(first.id).overdue_times) == 1
    assert restarted.repository.get(second.id).overdue_times == [START + timedelta(hours=12)]


def racing_schedulers_fire_each_deadline_once(open_app: Open) -> None:
    clock, app = on_a_manual_clock(open_app)
    reminders = [app.create(f"reminder {i}", timedelta(minutes=i)) for i in range(12)]
    clock.advance(hours=1)
    runners = [scheduler(open_app(), clock) for _ in range(3)]
    counts: list[int] = []
    threads = [threading.Thread(target=lambda r=r: counts.append(r.fire_due())) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 12
    assert [len(app.repository.get(r.id).overdue_times) for r in reminders] == [1] * 12


def a_cancelled_or_rescheduled_deadline_follows_its_latest_event(open_app: Open) -> None:
    clock, app = on_a_manual_clock(open_app)
    cancelled = app.create("answered in time", timedelta(hours=1))
    moved = app.create("moved later", timedelta(hours=1))
    runner = scheduler(app, clock)
    runner.fire_due()  # the index knows both timers
    app.save(*timers.cancel(app, PURPOSE, cancelled.id))
    app.save(timers.schedule(app, PURPOSE, moved.id, START + timedelta(hours=3)))
    clock.advance(hours=2)
    assert runner.fire_due() == 0
    clock.advance(hours=2)
    assert runner.fire_due() == 1
    assert app.repository.get(cancelled.id).overdue_times == []
    assert len(app.repository.get(moved.id).overdue_times) == 1
    assert timers.cancel(app, PURPOSE, moved.id) == []  # a fired timer stays fired


def its_own_process_s_deadlines_are_handed_over_and_another_s_are_read(open_app: Open) -> None:
    """The scheduler indexes the timers its own process saves without reading the store; one saved
    by another process comes first, so it reads the store, once, and then no more."""
    clock, app = on_a_manual_clock(open_app)
    other = open_app()
    other.clock = clock
    runner = scheduler(app, clock)
    reads = []
    select = app.recorder.select_notifications
    app.recorder.select_notifications = lambda *a, **k: reads.append(1) or select(*a, **k)
    runner.refresh()  # at start: the log is read
    started = len(reads)
    mine = [app.create(f"mine {n}", timedelta(hours=1)) for n in range(3)]
    runner.refresh()
    assert len(reads) == started, "its own process's timers were read back"
    theirs = other.create("theirs", timedelta(hours=2))
    other.save(Reminder(text="no deadline"))  # another process's save without a timer
    runner.refresh()
    assert len(reads) == started + 1
    app.create("mine again", timedelta(hours=3))
    runner.refresh()
    assert len(reads) == started + 1, "the gap was read once"
    clock.advance(hours=2, minutes=1)
    assert runner.fire_due() == 4
    assert [app.repository.get(r.id).overdue_times != [] for r in (*mine, theirs)] == [True] * 4
    other.close()


CASES = [nothing_fires_before_its_time_and_it_fires_once_after, a_restart_neither_loses_nor_repeats_a_deadline,
         racing_schedulers_fire_each_deadline_once, a_cancelled_or_rescheduled_deadline_follows_its_latest_event,
         its_own_process_s_deadlines_are_handed_over_and_another_s_are_read]

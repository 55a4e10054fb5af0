"""Durable timers: deadlines scheduled as events in a service's own store, fired exactly once.

Scheduling a deadline is an event: `schedule(app, purpose, subject, due_at)` returns a `Timer`
aggregate that the caller saves together with the change that made the deadline (a ticket opened,
a parcel dispatched), so the deadline exists iff the change does. The `scheduler` process role
runs a `TimerScheduler`: it follows the store's notification log for timer events (its index of
pending timers is rebuilt from the log on start, so it survives restarts), and when the clock
passes a timer's due time it records `Timer.Fired` together with the events of the service's
handler for that purpose and a tracking row `timer:<id>`, in one transaction. A second
scheduler, a restart or a retry finds the tracking row (or the timer's newer version) and
writes nothing: each deadline fires once.

Time comes from an injectable `Clock` (`service_runtime/clock.py`): tests use a `ManualClock`
and never sleep.

    timer = timers.schedule(app, "ticket.first-response", ticket_id, due_at, order_id=order_id)
    app.save(ticket, timer)
    ...
    TimerScheduler(app, {"ticket.first-response": app.on_first_response_due}, clock).fire_due()
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence
from uuid import UUID

from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from service_runtime.clock import SYSTEM_CLOCK, Clock
from service_runtime.store import AlreadyProcessed, ServiceApplication
from service_runtime.tracing import TracedAggregate, stable_id, trace
from service_runtime.wakeup import SAFETY_POLL_SECONDS, work_when_woken

log = logging.getLogger("kongfu.timers")

PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"


def timer_id(purpose: str, subject: Any) -> UUID:
    """One timer per (purpose, subject): scheduling it again finds the same timer."""
    return stable_id("timer", purpose, subject)


class Timer(TracedAggregate):
    """A deadline: what it is for (`purpose`), what it concerns (`subject`), when it is due."""

    @staticmethod
    def create_id(purpose: str, subject: str, **_: Any) -> UUID:
        return timer_id(purpose, subject)

    @event("Scheduled")
    def __init__(self, purpose: str, subject: str, due_at: datetime, data: dict,
                 order_id: UUID | None = None) -> None:
        self.purpose = purpose
        self.subject = subject
        self.due_at = due_at
        self.data = dict(data)
        self.order_id = order_id
        self.status = PENDING
        self.fired_at: datetime | None = None

    @property
    def is_pending(self) -> bool:
        return self.status == PENDING

    def is_due(self, now: datetime) -> bool:
        return self.is_pending and now >= self.due_at

    @event("Rescheduled")
    def reschedule(self, due_at: datetime) -> None:
        self.due_at = due_at

    @event("Fired")
    def fire(self, fired_at: datetime) -> None:
        self.status = FIRED
        self.fired_at = fired_at

    @event("Cancelled")
    def cancel(self) -> None:
        self.status = CANCELLED


TIMER_TOPICS = [get_topic(cls) for cls in (Timer.Scheduled, Timer.Rescheduled, Timer.Fired, Timer.Cancelled)]
_TIMER_TOPICS = frozenset(TIMER_TOPICS)


def schedule(app: ServiceApplication, purpose: str, subject: Any, due_at: datetime,
             data: Mapping[str, Any] | None = None, order_id: UUID | None = None) -> Timer:
    """The timer for (purpose, subject), due at `due_at`; save it with the change it belongs to.
    A pending timer scheduled again moves to the new time; a fired or cancelled one stays so."""
    existing = app.find(timer_id(purpose, subject), Timer)
    if existing is None:
        return Timer(purpose=purpose, subject=str(subject), due_at=due_at, data=dict(data or {}),
                     order_id=order_id)
    if existing.is_pending and existing.due_at != due_at:
        existing.reschedule(due_at)
    return existing


def cancel(app: ServiceApplication, purpose: str, subject: Any) -> list[Timer]:
    """The timer cancelled, to save with the change that makes it moot ([] if none is pending)."""
    timer = app.find(timer_id(purpose, subject), Timer)
    if timer is None or not timer.is_pending:
        return []
    timer.cancel()
    return [timer]


# A fire handler gets the fired timer and the time it fired and returns the aggregates it changed.
FireHandler = Callable[[Timer, datetime], Iterable[Any]]


class TimerScheduler:
    """Fires a service's due timers; any number may run, each timer fires once."""

    def __init__(self, app: ServiceApplication, handlers: Mapping[str, FireHandler], clock: Clock = SYSTEM_CLOCK,
                 service: str = "", poll_interval: float = 0.5, batch: int = 500) -> None:
        self.app = app
        self.handlers = dict(handlers)
        self.clock = clock
        self.service = service or getattr(app, "name", "service")
        self.poll_interval = poll_interval
        self.batch = batch
        self.position = 0  # last notification id read into the index
        self.pending: dict[UUID, datetime] = {}
        # What this process's saves commit: the run that follows on from `position` is indexed
        # without reading the store, as the relay publishes it (`service_runtime/handoff.py`).
        self.handed_over = app.committed_from_now()
        self._rebuilt = False

    def refresh(self) -> None:
        """Read new timer events from the store's notification log into the pending index. The
        saves of this process are taken as handed over; the store is read when something came
        first that was not (a save of another process, whose NOTIFY woke the scheduler), or
        when saves are held past the run (a gap)."""
        if not self._rebuilt:
            self._rebuild()
        run = self.handed_over.following(self.position, self.batch)
        if run:
            self._index(notification for notification in run if notification.topic in _TIMER_TOPICS)
            self.position = run[-1].id
            if len(run) < self.batch and not self.handed_over.holds_any():
                return
        self._read_on()  # every topic: the position moves past all of them, and the gap is gone

    def _rebuild(self) -> None:
        """At start, the pending timers from the timer events of the whole log, read by topic; the
        position then moves to the log's end as it was before the read (all of it committed:
        ids commit in order), so the next read does not go through the other events."""
        log_end = self.app.recorder.max_notification_id() or 0
        self._read_on(TIMER_TOPICS)
        self.position = max(self.position, log_end)
        self._rebuilt = True

    def _read_on(self, topics: Sequence[str] = ()) -> None:
        """Index what the store holds after `position`, of `topics` (or of every topic), to its end."""
        while True:
            notifications = self.app.recorder.select_notifications(self.position + 1, self.batch, topics=topics)
            self._index(notification for notification in notifications if notification.topic in _TIMER_TOPICS)
            if notifications:
                self.position = notifications[-1].id
            if len(notifications) < self.batch:
                return

    def _index(self, notifications: Iterable[Any]) -> None:
        for notification in notifications:
            timer_key = notification.originator_id
            if notification.topic.endswith((".Fired", ".Cancelled")):
                self.pending.pop(timer_key, None)
            else:
                self.pending[timer_key] = self.app.mapper.to_domain_event(notification).due_at

    def due(self) -> list[UUID]:
        now = self.clock.now()
        return sorted((t for t, due_at in self.pending.items() if due_at <= now), key=lambda t: self.pending[t])

    def fire_due(self) -> int:
        """Fire every timer due now; the number fired by this call."""
        self.refresh()
        fired = 0
        for key in self.due():
            if self.fire_one(key):
                fired += 1
        return fired

    def fire_one(self, key: UUID) -> bool:
        for _attempt in range(5):
            timer = self.app.find(key, Timer)
            now = self.clock.now()
            if timer is None or not timer.is_pending:
                self.pending.pop(key, None)
                return False
            if not timer.is_due(now):
                self.pending[key] = timer.due_at
                return False
            handler = self.handlers.get(timer.purpose)
            with trace(correlation_id=timer.order_id or timer.subject, causation_id=f"timer:{key}",
                       actor=f"system:{self.service}"):
                timer.fire(fired_at=now)
                changed = list(handler(timer, now)) if handler else []
            if handler is None:
                log.warning("timer %s (%s) fired with no handler", key, timer.purpose)
            try:
                self.app.save_reaction(timer, *changed, tracking=Tracking(f"timer:{key}", 1),
                                       event_id=f"timer:{key}")
            except AlreadyProcessed:
                self.pending.pop(key, None)
                return False
            except IntegrityError:
                continue  # the timer or a handled aggregate moved on: reload and look again
            self.pending.pop(key, None)
            return True
        return False

    def seconds_to_next(self, safety_poll: float = SAFETY_POLL_SECONDS) -> float:
        """How long the scheduler may sleep: until the earliest pending timer is due (a timer
        already due that could not fire is tried again after `poll_interval`), at most the safety
        poll. A clock that jumps (a test's offset) is looked at every `poll_interval` while
        timers are pending, since its time can pass without the wait."""
        if not self.pending:
            return safety_poll
        wait = (min(self.pending.values()) - self.clock.now()).total_seconds()
        if wait <= 0 or self.clock.jumps:
            wait = min(max(wait, 0.0), self.poll_interval) or self.poll_interval
        return min(wait, safety_poll)

    async def run(self, stop: asyncio.Event, safety_poll: float = SAFETY_POLL_SECONDS) -> None:
        """Fire due timers until stopped; at rest sleep until the next due time or until a save
        (a timer scheduled, in this process or, by NOTIFY, another) wakes it."""
        await work_when_woken(self.app.new_events, stop, self.fire_due,
                              sleep=lambda: self.seconds_to_next(safety_poll), retry_after=self.poll_interval,
                              failure=f"timer scheduler for {self.service} failed; retrying", reads=TIMER_TOPICS)

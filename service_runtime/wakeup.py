"""Waking a loop when there is something new, instead of polling at rest.

A `Signal` is set from any thread (the application's save, a LocalEventLog append, a
PostgreSQL notification) and wakes every loop waiting on it. A woken loop reads what is new;
nothing depends on a signal arriving: every waiter also wakes on a slow safety poll, so a lost
signal (a dropped LISTEN connection, a save in another process of the embedded mode) delays
work by at most that long and loses nothing.

In the stack, `listen` keeps a PostgreSQL LISTEN on the channel the event recorder NOTIFYs in
every insert transaction (delivered only when it commits), so a save in another process (the api
role, a worker) wakes the relay, the timer scheduler and the dispatchers of this one. A save's
NOTIFY carries the token of the signal its application notified in-process; `listen` passes over
the notifications of the signal it feeds, woken already (a second wake would only read again and
find nothing).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from typing import Any, Callable, Collection

log = logging.getLogger("kongfu.wakeup")

# How long a loop sleeps at rest when no signal comes: the bound on a lost signal's delay. On the
# stack no signal is lost while the LISTEN connection stands, and `listen` signals when it drops
# and again once it listens anew, so this covers only what nothing signals at all (an append by
# a second embedded process on the same files).
SAFETY_POLL_SECONDS = 30.0
RECONNECT_FIRST, RECONNECT_MAX = 0.5, 8.0


class Waiter:
    """One loop's view of a signal: `clear()` before reading, then `wait(...)` if nothing was
    new; a signal that came during the read makes the wait return at once."""

    def __init__(self, signal: "Signal", loop: asyncio.AbstractEventLoop,
                 reads: frozenset[str] | None = None) -> None:
        self.signal, self.loop, self.event = signal, loop, asyncio.Event()
        # The event topics this loop reads (the timer scheduler: timer events), or None for all:
        # a save of other events only would have it read and find nothing.
        self.reads = reads
        # A wake handed to the loop and not yet run: the wakes of a burst of saves (a consumer's
        # batch) ride on it, one hand-off to the loop instead of one each. Cleared before the
        # event is set, so a save after that hands over a wake of its own and none is lost.
        self._wake_pending = False

    def wake(self, topics: Collection[str] | None = None) -> None:
        if self._wake_pending or (topics is not None and (
                not topics or (self.reads is not None and self.reads.isdisjoint(topics)))):
            return  # a wake is on its way already, or the save holds nothing this loop reads
            # (none at all: a reaction that changed nothing saves its position alone)
        self._wake_pending = True
        try:
            self.loop.call_soon_threadsafe(self._woken)
        except RuntimeError:  # the loop is closed: nobody waits any more
            self.signal.discard(self)

    def _woken(self) -> None:
        self._wake_pending = False
        self.event.set()

    def clear(self) -> None:
        self.event.clear()

    async def wait(self, stop: asyncio.Event | None, timeout: float) -> bool:
        """Until signalled, `stop` is set or `timeout` seconds pass; True if signalled."""
        if self.event.is_set():
            return True
        waits = [asyncio.ensure_future(self.event.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in waits:
                pending.cancel()
        return self.event.is_set()

    def close(self) -> None:
        self.signal.discard(self)


class Signal:
    """Thread-safe: `notify()` from anywhere wakes every registered waiter."""

    def __init__(self) -> None:
        self._waiters: set[Waiter] = set()
        self._lock = threading.Lock()
        self.token = uuid.uuid4().hex  # names this signal in the NOTIFYs of saves that notified it

    def waiter(self, reads: Collection[str] | None = None) -> Waiter:
        """A waiter bound to the running event loop, woken by saves of the topics it `reads`
        (None: of any) and by every wake that does not say what was saved."""
        waiter = Waiter(self, asyncio.get_running_loop(), None if reads is None else frozenset(reads))
        with self._lock:
            self._waiters.add(waiter)
        return waiter

    def discard(self, waiter: Waiter) -> None:
        with self._lock:
            self._waiters.discard(waiter)

    def notify(self, topics: Collection[str] | None = None) -> None:
        """`topics`: those of the events a save of this process committed. None (a save in
        another process, a reconnection, a save that may or may not have committed) wakes all."""
        with self._lock:
            waiters = list(self._waiters)
        for waiter in waiters:
            waiter.wake(topics)


async def work_when_woken(signal: Signal, stop: asyncio.Event, work: Callable[[], Any], *,
                          sleep: Callable[[], float], retry_after: float, failure: str,
                          reads: Collection[str] | None = None) -> None:
    """Run the blocking `work` in a thread, then sleep until `signal` fires (for a save of the
    topics `work` reads, if given), `stop` is set or `sleep()` seconds pass; after a failure
    (logged with `failure`) sleep `retry_after`."""
    waiter = signal.waiter(reads)
    try:
        while not stop.is_set():
            waiter.clear()  # before reading: work saved during the read wakes the next round
            try:
                await asyncio.to_thread(work)
                timeout = sleep()
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception(failure)
                timeout = retry_after
            await waiter.wait(stop, timeout)
    finally:
        waiter.close()


async def listen(dsn: str, channel: str, signal: Signal, stop: asyncio.Event) -> None:
    """Relay PostgreSQL notifications on `channel` to `signal` until `stop`. On (re)connecting
    the signal fires once, covering whatever was committed while no connection listened."""
    import psycopg
    from psycopg import sql

    async def relay_notifications(conn: psycopg.AsyncConnection) -> None:
        # On the socket itself: psycopg's `notifies()` wakes every 0.1 s to stay interruptible,
        # ten wake-ups a second in every process at rest. A closed connection reads as readable
        # and `consume_input` raises, which reconnects.
        loop, pgconn, readable = asyncio.get_running_loop(), conn.pgconn, asyncio.Event()
        own = signal.token.encode()
        socket = pgconn.socket
        loop.add_reader(socket, readable.set)
        try:
            while True:
                await readable.wait()
                readable.clear()
                pgconn.consume_input()
                received = False
                while (notification := pgconn.notifies()) is not None:
                    received = received or notification.extra != own
                if received:
                    signal.notify()
        finally:
            loop.remove_reader(socket)

    backoff = RECONNECT_FIRST
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                signal.notify()
                backoff = RECONNECT_FIRST
                reader, stopped = asyncio.ensure_future(relay_notifications(conn)), asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait({reader, stopped}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopped.cancel()
                    reader.cancel()
                if reader.done() and not reader.cancelled():
                    reader.result()  # the connection failed: raise, reconnect below
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the database restarts; the safety poll covers the gap
            log.warning("LISTEN %s lost (%s); reconnecting in %.1f s", channel, exc.__class__.__name__, backoff)
            signal.notify()
            try:
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            except asyncio.TimeoutError:
                pass
            backoff = min(RECONNECT_MAX, backoff * 2)

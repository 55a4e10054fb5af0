"""The notifications a process's saves committed, handed to the process's own relay.

A save wakes the relay, which used to read back what the save had just written: one statement
and one hand-off to a thread for every save. The save already holds those notifications, with the
ids the store gave them, so it leaves them here; the relay takes the run that follows on from its
position without reading. Anything not here (saved by another process, or dropped when nobody
took them) leaves a gap in the run, and the relay reads the store as before. After publishing
what it took, the relay always reads on from its new position, so nothing committed is passed
over: the run only stands in for a read's first rows.
"""

from __future__ import annotations

import threading
from typing import Iterable

from eventsourcing.persistence import Notification

KEPT = 1000  # notifications held for a relay that does not take them (an api-only process has none)


class CommittedNotifications:
    """Thread-safe: saves add from any thread; the relay takes."""

    def __init__(self, kept: int = KEPT) -> None:
        self._by_id: dict[int, Notification] = {}
        self._kept = kept
        self._lock = threading.Lock()

    def add(self, notifications: Iterable[Notification]) -> None:
        with self._lock:
            for notification in notifications:
                self._by_id[notification.id] = notification
            if len(self._by_id) > self._kept:
                for old in sorted(self._by_id)[:len(self._by_id) - self._kept]:
                    del self._by_id[old]

    def following(self, position: int, limit: int) -> list[Notification]:
        """The unbroken run of notifications after `position` (at most `limit`); empty when the
        next one is not here. What is at or before the run's end is forgotten."""
        with self._lock:
            run: list[Notification] = []
            while len(run) < limit and (notification := self._by_id.get(position + len(run) + 1)):
                run.append(notification)
            end = position + len(run)
            for taken in [i for i in self._by_id if i <= end]:
                del self._by_id[taken]
            return run

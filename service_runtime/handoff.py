"""The notifications a process's saves committed, handed to the process's own relay.

A save wakes the relay, which used to read back what the save had just written: one statement
and one hand-off to a thread for every save. The save already holds those notifications, with the
ids the store gave them, so it leaves them here; the relay takes the run that follows on from its
position without reading. Anything not here (saved by another process, or dropped when nobody
took them) leaves a gap in the run, and the relay reads the store as before. After publishing
what it took, the relay reads on only if saves are held past the run (a gap) or the run was a
full batch: any other save wakes the relay (its process's in-process, another's by NOTIFY), and
a wake whose saves are not all here reads the store, so nothing committed is passed over.
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

    def holds_any(self) -> bool:
        """Whether saves are held that no run has taken: past a gap, or not yet reached."""
        with self._lock:
            return bool(self._by_id)

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

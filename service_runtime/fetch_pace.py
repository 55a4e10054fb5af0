"""How long the broker may hold a consumer's fetch, and how many bytes it waits for, by how busy
the consumer is. Pure: it sees the times of fetches and whether they brought records.

- busy (some records lately): the broker holds a fetch up to 0.5 s and the first record answers it;
- quiet (no record or rebalance for QUIET_AFTER seconds): held up to 5 s, so an idle consumer
  asks ten times less often (its broker and its process wake for nothing), and a record that
  arrives still answers the held fetch at once. Only while quiet: a fetch leaves out a
  partition whose records the application has not taken yet, and a request sent after a
  rebalance queues behind the held fetch, so busy or rebalancing consumers keep the short wait;
- streaming (records in at least STREAM_ABOVE fetches of the last second): the broker gathers
  for 100 ms whatever arrives, so a consumer makes at most 10 round trips a second however many
  events come, instead of one per event. Building and parsing a fetch of every assigned
  partition was a quarter of the services' CPU under load, and each fetch that brings records
  is a batch handed to a worker thread and a position written. A record waits at most 100 ms
  more: against 50 ms the services spent 8 % less CPU under load; 200 ms saved less and slowed
  the lifecycles. Streaming ends below STREAM_BELOW (at 10 fetches a second, a stream that
  thin, about 10 records a second, costs more round trips than answering each record).
"""

from __future__ import annotations

from collections import deque

BUSY_FETCH_WAIT_MS, BUSY_FETCH_MIN_BYTES = 500, 1
QUIET_FETCH_WAIT_MS = 5000
STREAM_FETCH_WAIT_MS = 100
STREAM_FETCH_MIN_BYTES = 64 * 1024  # more than 100 ms of events here: the wait is what ends a fetch
QUIET_AFTER = 10.0  # seconds
STREAM_ABOVE, STREAM_BELOW = 15, 6  # fetches with records in the last second
WINDOW = 1.0  # seconds

BUSY = (BUSY_FETCH_WAIT_MS, BUSY_FETCH_MIN_BYTES)
QUIET = (QUIET_FETCH_WAIT_MS, BUSY_FETCH_MIN_BYTES)
STREAMING = (STREAM_FETCH_WAIT_MS, STREAM_FETCH_MIN_BYTES)


class FetchPace:
    def __init__(self) -> None:
        self.pace = BUSY
        self._last_activity: float | None = None  # last record or rebalance
        self._arrivals: deque[float] = deque()  # times of the window's fetches that brought records

    def rebalanced(self, now: float) -> tuple[int, int]:
        self._last_activity = now
        self._arrivals.clear()
        self.pace = BUSY
        return self.pace

    def look_again_within(self) -> float:
        """Seconds a caller may wait for records before telling `fetched` it had none: the pace
        changes only when told, so a caller waiting longer would keep a busy or streaming pace
        (a fetch every 0.5 s or 50 ms) long after the records stopped."""
        return QUIET_FETCH_WAIT_MS / 1000 if self.pace == QUIET else WINDOW

    def fetched(self, now: float, had_records: bool) -> tuple[int, int]:
        """The pace for the next fetch, after one that brought records or not."""
        if self._last_activity is None:
            self._last_activity = now
        if had_records:
            self._last_activity = now
            self._arrivals.append(now)
        while self._arrivals and self._arrivals[0] <= now - WINDOW:
            self._arrivals.popleft()
        rate = len(self._arrivals)
        if rate >= STREAM_ABOVE or (self.pace == STREAMING and rate >= STREAM_BELOW):
            self.pace = STREAMING
        elif now - self._last_activity >= QUIET_AFTER:
            self.pace = QUIET
        else:
            self.pace = BUSY
        return self.pace

"""One consumer feeding two parts of a process (embedded log): each part gets only its topics,
a slow part does not hold the other back, a failing part restarts both from what each recorded,
and a stop lets the parts finish what was fetched."""

from __future__ import annotations

import asyncio
import threading
import time

from service_runtime.eventlog import LogRecord, OutgoingRecord
from service_runtime.following import Follower, follow
from service_runtime.local_log import LocalEventLog

A, B = "kongfu.a.events", "kongfu.b.events"


class Part:
    """A follower that remembers what it handled (its 'recorded position' is the last offset)."""

    def __init__(self, name: str, topics: set[str], delay: float = 0.0) -> None:
        self.name, self.topics, self.delay = name, frozenset(topics), delay
        self.handled: list[tuple[str, int]] = []
        self.starts = 0
        self.fail_at: tuple[str, int] | None = None

    async def start_position(self, topic: str, partition: int) -> int | None:
        self.starts += 1
        offsets = [o for t, o in self.handled if t == topic]
        return max(offsets) if offsets else None

    async def handle_batch(self, records: list[LogRecord]) -> None:
        for r in records:
            assert r.topic in self.topics
            if (r.topic, r.offset) == self.fail_at:
                self.fail_at = None
                raise RuntimeError("the database went away")
            if r.offset <= max((o for t, o in self.handled if t == r.topic), default=-1):
                continue  # applied before the restart: skipped, as the real parts do
            await asyncio.sleep(self.delay)
            self.handled.append((r.topic, r.offset))

    def follower(self) -> Follower:
        return Follower(self.name, self.topics, self.start_position, self.handle_batch, lambda lags: None)


def publish(log: LocalEventLog, topic: str, n: int) -> None:
    asyncio.run(log.publish([OutgoingRecord(topic, b"k", f'{{"n": {i}}}'.encode()) for i in range(n)]))


async def run_until(parts: list[Part], log: LocalEventLog, done, timeout: float = 20.0) -> list[float]:
    """Follow until `done()`; returns when (seconds after the start) each part first had all its records."""
    stop = asyncio.Event()
    task = asyncio.create_task(follow(log, "test", [p.follower() for p in parts], stop))
    loop, started = asyncio.get_running_loop(), asyncio.get_running_loop().time()
    finished: dict[str, float] = {}
    while not done() and loop.time() - started < timeout:
        for part in parts:
            if part.name not in finished and len(part.handled) == expected(part):
                finished[part.name] = loop.time() - started
        await asyncio.sleep(0.01)
    stop.set()
    await task
    return [finished.get(p.name, loop.time() - started) for p in parts]


COUNTS = {A: 30, B: 10}


def expected(part: Part) -> int:
    return sum(COUNTS[t] for t in part.topics)


def test_each_part_gets_its_topics_and_a_slow_part_does_not_hold_the_other_back(tmp_path):
    log = LocalEventLog(tmp_path / "log.sqlite")
    publish(log, A, COUNTS[A])
    publish(log, B, COUNTS[B])
    slow, fast = Part("worker", {A}, delay=0.1), Part("projector", {A, B})

    fast_done, slow_done = asyncio.run(run_until([slow, fast], log, lambda: len(slow.handled) == COUNTS[A]))[::-1]

    assert sorted(fast.handled) == sorted([(A, i) for i in range(COUNTS[A])] + [(B, i) for i in range(COUNTS[B])])
    assert slow.handled == [(A, i) for i in range(COUNTS[A])]
    assert fast_done < 1.0 < slow_done  # 30 x 0.1 s for the slow one; the fast one long before


def test_a_failing_part_restarts_both_from_what_each_recorded(tmp_path):
    log = LocalEventLog(tmp_path / "log.sqlite")
    publish(log, A, COUNTS[A])
    publish(log, B, COUNTS[B])
    worker, projector = Part("worker", {A}), Part("projector", {A, B})
    worker.fail_at = (A, 12)

    asyncio.run(run_until([worker, projector], log,
                          lambda: len(worker.handled) == COUNTS[A] and len(projector.handled) == 40))

    assert worker.handled == [(A, i) for i in range(COUNTS[A])]  # each once, in order, despite the failure
    assert len(projector.handled) == len(set(projector.handled)) == 40
    assert worker.starts >= 2 and projector.starts >= 2  # asked again at the restart


def test_a_stop_lets_the_parts_finish_what_was_fetched(tmp_path):
    log = LocalEventLog(tmp_path / "log.sqlite")
    publish(log, A, COUNTS[A])
    slow = Part("worker", {A}, delay=0.02)

    async def stop_at_once() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(follow(log, "test", [slow.follower()], stop))
        while not slow.handled:
            await asyncio.sleep(0.005)
        stop.set()
        await task

    asyncio.run(stop_at_once())
    assert slow.handled == [(A, i) for i in range(len(slow.handled))]
    assert len(slow.handled) == COUNTS[A]  # the fetched batch (all 30 records) was finished, not dropped


class ThreadedPart(Part):
    """Handles on a worker thread, as the real parts do: a thread cannot be cancelled."""

    def __init__(self, name: str, topics: set[str], thread_seconds: float) -> None:
        super().__init__(name, topics)
        self.thread_seconds = thread_seconds
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def _work(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.thread_seconds)
        with self.lock:
            self.in_flight -= 1

    async def handle_batch(self, records: list[LogRecord]) -> None:
        await asyncio.to_thread(self._work)
        await super().handle_batch(records)


def test_after_a_failure_the_other_part_finishes_its_batch_before_the_restart(tmp_path):
    log = LocalEventLog(tmp_path / "log.sqlite")
    publish(log, A, COUNTS[A])
    worker, projector = Part("worker", {A}), ThreadedPart("projector", {A, B}, thread_seconds=2.5)
    worker.fail_at = (A, 0)  # fails at once, while the projector is in its first batch

    asyncio.run(run_until([worker, projector], log,
                          lambda: len(worker.handled) == COUNTS[A] and len(projector.handled) == COUNTS[A]))

    assert projector.most_in_flight == 1  # never a second thread on the same records
    assert projector.handled == [(A, i) for i in range(COUNTS[A])]


class HeldFetches:
    """The embedded log, but a fetch with nothing to return waits its whole timeout, as a Kafka
    consumer's does (the embedded log's own consumer looks again every second)."""

    def __init__(self, log: LocalEventLog) -> None:
        self.log = log

    def consumer(self, group, topics, start_position):
        inner = self.log.consumer(group, topics, start_position)

        class Held:
            start, stop, mark_processed, lag = inner.start, inner.stop, inner.mark_processed, inner.lag

            async def fetch(self, timeout: float) -> list[LogRecord]:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    records = await inner.fetch(timeout=0.05)
                    if records:
                        return records
                return []

        return Held()


def test_a_stop_or_a_failed_part_does_not_wait_for_a_fetch_the_broker_holds(tmp_path):
    log = LocalEventLog(tmp_path / "log.sqlite")
    publish(log, A, COUNTS[A])
    worker = Part("worker", {A})
    worker.fail_at = (A, 20)

    async def follow_then_stop() -> tuple[float, float]:
        stop = asyncio.Event()
        started = time.monotonic()
        task = asyncio.create_task(follow(HeldFetches(log), "test", [worker.follower()], stop))
        while len(worker.handled) < COUNTS[A]:  # the failure at 20 restarts the consumer mid-fetch
            await asyncio.sleep(0.01)
            assert time.monotonic() - started < 10, f"stuck after {len(worker.handled)} records"
        handled_after = time.monotonic() - started
        await asyncio.sleep(0.5)  # the consumer is now in a fetch held for FETCH_WAIT_SECONDS
        asked = time.monotonic()
        stop.set()
        await task
        return handled_after, time.monotonic() - asked

    handled_after, stopped_after = asyncio.run(follow_then_stop())
    assert worker.handled == [(A, i) for i in range(COUNTS[A])]
    assert worker.starts >= 2  # restarted after the failure, long before the held fetch ended
    assert handled_after < 1.0 + 5  # the restart pause and the handling, not 30 s
    assert stopped_after < 2.0, "stopped at once, not when the held fetch ended"


def test_the_lag_is_asked_at_most_once_a_second_while_records_stream_and_at_once_when_caught_up(tmp_path):
    log = LocalEventLog(tmp_path / "log.sqlite")
    reports: list[tuple[float, dict]] = []
    handled: list[int] = []

    async def handle(records):
        handled.extend(r.offset for r in records)

    async def scenario():
        stop = asyncio.Event()
        follower = Follower("worker", frozenset({A}), lambda t, p: _none(), handle,
                            lambda lags: reports.append((time.monotonic(), lags)))
        task = asyncio.create_task(follow(log, "test", [follower], stop))
        started = time.monotonic()
        for i in range(30):  # thirty appends 20 ms apart: a fetch, and records, for each
            await log.publish([OutgoingRecord(A, b"k", b'{"n": %d}' % i)])
            await asyncio.sleep(0.02)
        streamed = time.monotonic()
        while len(handled) < 30 and time.monotonic() - started < 10:
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.5)  # the fetch after the last records comes back empty
        stop.set()
        await task
        return started, streamed

    started, streamed = asyncio.run(scenario())
    during = [at for at, _ in reports if started <= at <= streamed]
    assert len(during) <= 3, f"{len(during)} lag reports while 30 appends streamed in {streamed - started:.1f} s"
    assert reports[-1][1] == {(A, 0): 0}, "the consumer caught up: its lag must read 0"


async def _none():
    return None

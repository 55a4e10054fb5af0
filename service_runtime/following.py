"""Following topics: one consumer of the event log feeding one or more parts of a process.

A process that runs a service's worker and its projector reads the worker's topics twice if each
part has its own consumer: two fetches of every record, two consumer groups asking the broker for
more at rest. `follow` gives them one consumer (one fetch, one group) and still lets each part go
at its own pace: every part has its own queue of fetched batches and its own task, so the
timeline's projector never waits for a worker's handlers, and the fetch loop waits only when a
part falls a few batches behind.

Where a part's progress lives: beside its effects (tracking rows, projection positions), never
in the consumer. On any failure (a part's handler, the database, the broker) the consumer is
rebuilt and starts each partition from the earliest position the parts that read it recorded;
each part skips what it had done before (`Follower.start_position` is asked again, so it knows).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

from service_runtime.eventlog import EventLog, LogConsumer, LogRecord

log = logging.getLogger("kongfu.following")

# A fetch returns as soon as records arrive; at rest it returns after this long, for the lag
# report alone: a stop or a part that ends wakes the loop at once, mid-fetch.
FETCH_WAIT_SECONDS = 30.0
# Fetched batches a part may have waiting before the fetch loop waits for it (bounds memory
# when a part falls behind; a batch is at most a fetch's worth of records).
QUEUED_BATCHES = 4
RESTART_PAUSE_SECONDS = 1.0
# The lag gauges are scraped every few seconds: while records stream in, they are set at most
# this often (asking every partition's end offset after every fetch was work for no reader);
# after a report of some lag, a fetch that comes back empty sets them at once, so a consumer
# that caught up shows 0.
LAG_REPORT_SECONDS = 1.0
PART_FINISH_SECONDS = 30.0


@dataclass(frozen=True)
class Follower:
    """A part of a process that follows some topics."""

    name: str
    topics: frozenset[str]
    # The last offset this part applied on a partition, or None for none; asked at every
    # (re)start, so the part can tell records it applied before from new ones.
    start_position: Callable[[str, int], Awaitable[int | None]]
    handle_batch: Callable[[list[LogRecord]], Awaitable[None]]
    report_lag: Callable[[dict[tuple[str, int], int]], None]


class _Progress:
    """Per partition, what every part reading it has handled: the group offset to commit."""

    def __init__(self, followers: Sequence[Follower]) -> None:
        self.readers = {f.name: f.topics for f in followers}
        self.done: dict[str, dict[tuple[str, int], int]] = {f.name: {} for f in followers}

    def handled(self, follower: str, records: Sequence[LogRecord]) -> list[LogRecord]:
        """Record `follower`'s batch; returns markers for partitions every reader is now past."""
        for r in records:
            self.done[follower][(r.topic, r.partition)] = r.offset
        markers = []
        for topic, partition in {(r.topic, r.partition) for r in records}:
            offsets = [self.done[name].get((topic, partition)) for name, topics in self.readers.items()
                       if topic in topics]
            if None not in offsets:
                markers.append(LogRecord(topic, partition, min(offsets), None, b""))
        return markers


async def follow(event_log: EventLog, group: str, followers: Sequence[Follower], stop: asyncio.Event) -> None:
    """Feed every follower the records of its topics until stopped; on any failure resume from
    the positions the followers recorded."""
    topics = sorted(set().union(*(f.topics for f in followers)))

    async def start_position(topic: str, partition: int) -> int | None:
        positions = [await f.start_position(topic, partition) for f in followers if topic in f.topics]
        return None if None in positions else min(positions)

    while not stop.is_set():
        consumer = event_log.consumer(group, topics, start_position)
        failed = False
        try:
            await consumer.start()
            await _pump(consumer, followers, stop)
        except Exception:
            log.exception("consumer %s failed; resuming from recorded positions", group)
            failed = True
        finally:
            try:
                await consumer.stop()
            except Exception:  # noqa: BLE001 - a broker that is away; the next consumer starts afresh
                log.warning("consumer %s did not stop cleanly", group, exc_info=True)
        if failed:
            await asyncio.sleep(RESTART_PAUSE_SECONDS)


async def _pump(consumer: LogConsumer, followers: Sequence[Follower], stop: asyncio.Event) -> None:
    progress = _Progress(followers)
    queues: dict[str, asyncio.Queue] = {f.name: asyncio.Queue(maxsize=QUEUED_BATCHES) for f in followers}

    async def drain(follower: Follower) -> None:
        queue = queues[follower.name]
        while (batch := await queue.get()) is not None:
            await follower.handle_batch(batch)
            markers = progress.handled(follower.name, batch)
            if markers:
                await consumer.mark_processed(markers)

    parts = [asyncio.create_task(drain(f), name=f"follow-{f.name}") for f in followers]
    stopping = asyncio.ensure_future(stop.wait())
    loop, lag_reported_at, behind = asyncio.get_running_loop(), float("-inf"), False
    try:
        while not stop.is_set():
            fetching = asyncio.ensure_future(consumer.fetch(timeout=FETCH_WAIT_SECONDS))
            await asyncio.wait([fetching, stopping, *parts], return_when=asyncio.FIRST_COMPLETED)
            if not fetching.done():  # stopped, or a part ended
                fetching.cancel()
                await asyncio.gather(fetching, return_exceptions=True)
                _raise_if_failed(parts)
                break
            records = fetching.result()
            lags = None
            if (behind and not records) or loop.time() - lag_reported_at >= LAG_REPORT_SECONDS:
                lags, lag_reported_at = consumer.lag(), loop.time()
                behind = any(lags.values())
            for follower in followers:
                batch = [r for r in records if r.topic in follower.topics]
                if batch:
                    await _put(queues[follower.name], batch, parts)
                if lags is not None:
                    follower.report_lag({tp: lag for tp, lag in lags.items() if tp[0] in follower.topics})
            _raise_if_failed(parts)
        for follower in followers:  # a stop: what was fetched is handled first
            await _put(queues[follower.name], None, parts)
        await asyncio.gather(*parts)
    finally:
        stopping.cancel()
        await _halt(queues, parts)


async def _halt(queues: dict[str, asyncio.Queue], parts: list[asyncio.Task]) -> None:
    """After a failure: each part finishes the batch in hand, the batches queued behind it are
    dropped (they are fetched again). A handler runs on a thread that cannot be cancelled, so a
    part is not cancelled mid-batch, or the restarted consumer could hand the same records to a
    second thread meanwhile; only a part stuck for PART_FINISH_SECONDS is."""
    for queue in queues.values():
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)
    _, stuck = await asyncio.wait(parts, timeout=PART_FINISH_SECONDS)
    for task in stuck:
        task.cancel()
    await asyncio.gather(*stuck, return_exceptions=True)
    for task in parts:
        if task.done() and not task.cancelled():
            task.exception()  # seen: raised already, or logged by `follow`


async def _put(queue: asyncio.Queue, batch: list[LogRecord] | None, parts: list[asyncio.Task]) -> None:
    """Queue a batch (None: the part's last); a part that failed meanwhile ends the wait."""
    if not queue.full():
        queue.put_nowait(batch)
        return
    put = asyncio.ensure_future(queue.put(batch))
    await asyncio.wait([put, *parts], return_when=asyncio.FIRST_COMPLETED)
    if not put.done():
        put.cancel()
    _raise_if_failed(parts)


def _raise_if_failed(parts: list[asyncio.Task]) -> None:
    for task in parts:
        if task.done():
            raise task.exception() or RuntimeError(f"{task.get_name()} ended")

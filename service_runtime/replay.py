"""Rebuilding a projection from its topics, for ops: readers never see a half-built projection.

A replay builds into the rebuild tables while the live projection keeps serving (and its
projector keeps writing), catches up with whatever the live projector applied meanwhile, then
swaps the result in within one transaction. `until` builds the projection as it was at a time
(events that occurred later are left out) and keeps it beside the live one, for an audit.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Callable, Sequence

from service_runtime.eventlog import EventLog, LogRecord
from service_runtime.projections import LIVE, REBUILD, Projection, ProjectionStore
from service_runtime.projectors import prepare_batch, write_batch

Progress = Callable[[int, int], None]
OPTIMISTIC_CATCH_UPS = 5  # then the live writers are held for the last catch-up (PostgreSQL)
CHUNK = 5000  # records per rebuild transaction
PIPELINE_DEPTH = 2  # batches waiting between two stages
MAX_CATCH_UPS = 50  # SQLite: the live projector is ahead at most by what arrived during one catch-up


def as_of_label(projection: str, until: datetime) -> str:
    return f"{projection}@{until.isoformat()}"


def _offsets(positions: dict[str, int]) -> dict[tuple[str, int], int]:
    """Tracking names (`topic:partition` → last applied offset) as the next offsets to read."""
    found = {}
    for source, position in positions.items():
        topic, partition = source.rsplit(":", 1)
        found[(topic, int(partition))] = position + 1
    return found


async def _build(projection: Projection, store: ProjectionStore, event_log: EventLog, topics: Sequence[str],
                 label: str, ends: dict[tuple[str, int], int], starts: dict[tuple[str, int], int] | None,
                 until: datetime | None, progress: Progress | None) -> None:
    """Three stages overlapped: fetching from the log, decoding into rows (a thread), writing
    batches (another thread, mostly waiting on the database); each hands on through a short queue."""
    total = sum(end - (starts or {}).get(tp, 0) for tp, end in ends.items())
    fetched: asyncio.Queue = asyncio.Queue(maxsize=PIPELINE_DEPTH)
    prepared: asyncio.Queue = asyncio.Queue(maxsize=PIPELINE_DEPTH)

    async def fetch() -> None:
        chunk: list[LogRecord] = []
        async for records in event_log.read_from_beginning(topics, ends, starts):
            chunk += records
            if len(chunk) >= CHUNK:
                await fetched.put(chunk)
                chunk = []
        await fetched.put(chunk)
        await fetched.put(None)

    async def prepare() -> None:
        while (records := await fetched.get()) is not None:
            await prepared.put((len(records), await asyncio.to_thread(prepare_batch, projection, records, until)))
        await prepared.put(None)

    async def write() -> None:
        done = 0
        while (item := await prepared.get()) is not None:
            count, batch = item
            await asyncio.to_thread(write_batch, store, projection, batch, REBUILD, label)
            done += count
            if progress:
                progress(done, total)

    async with asyncio.TaskGroup() as stages:
        for stage in (fetch, prepare, write):
            stages.create_task(stage())


async def rebuild(projection: Projection, store: ProjectionStore, event_log: EventLog, topics: Sequence[str],
                  progress: Progress | None = None, until: datetime | None = None,
                  optimistic_catch_ups: int = OPTIMISTIC_CATCH_UPS) -> tuple[str, int]:
    """Rebuild from offset 0 and swap in (or, with `until`, build the projection as it was then,
    kept under `name@until` in the rebuild tables); returns the result's checksum and rows."""
    label = projection.name if until is None else as_of_label(projection.name, until)
    await asyncio.to_thread(store.reset, label, REBUILD)
    ends = await event_log.end_offsets(topics)
    await _build(projection, store, event_log, topics, label, ends, None, until, progress)
    if until is not None:
        return await asyncio.to_thread(store.checksum, label, REBUILD)
    for _ in range(optimistic_catch_ups if store.is_postgres else MAX_CATCH_UPS):
        await _catch_up(projection, store, event_log, topics, label,
                        await asyncio.to_thread(store.positions, projection.name, LIVE))
        if await asyncio.to_thread(store.swap_in, projection.name, label):
            return await asyncio.to_thread(store.checksum, projection.name, LIVE)
    # The live projector keeps overtaking the rebuild (load): hold its writes for the last catch-up.
    held = await asyncio.to_thread(store.held_live_writers)
    if held is None:
        raise RuntimeError(f"{projection.name}: the live projector stayed ahead of the rebuild; try again")
    swapped = False
    try:
        live = await asyncio.to_thread(held.positions, projection.name)
        await _catch_up(projection, store, event_log, topics, label, live)
        swapped = await asyncio.to_thread(held.swap_in, projection.name, label)
    finally:
        await asyncio.to_thread(held.release, swapped)
    if not swapped:
        raise RuntimeError(f"{projection.name}: the rebuild could not catch up with the held live projection")
    return await asyncio.to_thread(store.checksum, projection.name, LIVE)


async def _catch_up(projection: Projection, store: ProjectionStore, event_log: EventLog, topics: Sequence[str],
                    label: str, live_positions: dict[str, int]) -> None:
    """Read into the rebuild whatever the live projection has applied beyond it."""
    rebuilt = _offsets(await asyncio.to_thread(store.positions, label, REBUILD))
    behind = {tp: end for tp, end in _offsets(live_positions).items() if end > rebuilt.get(tp, 0)}
    if behind:
        await _build(projection, store, event_log, topics, label, behind,
                     {tp: rebuilt.get(tp, 0) for tp in behind}, None, None)

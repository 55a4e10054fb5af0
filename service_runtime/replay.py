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

from service_runtime.eventlog import EventLog
from service_runtime.projections import LIVE, REBUILD, Projection, ProjectionStore, apply_batch

Progress = Callable[[int, int], None]
MAX_CATCH_UPS = 50  # the live projector is ahead at most by what arrived during one catch-up


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
    total = sum(end - (starts or {}).get(tp, 0) for tp, end in ends.items())
    done = 0
    async for records in event_log.read_from_beginning(topics, ends, starts):
        await asyncio.to_thread(apply_batch, store, projection, records, False, REBUILD, label, until)
        done += len(records)
        if progress:
            progress(done, total)


async def rebuild(projection: Projection, store: ProjectionStore, event_log: EventLog, topics: Sequence[str],
                  progress: Progress | None = None, until: datetime | None = None) -> tuple[str, int]:
    """Rebuild from offset 0 and swap in (or, with `until`, build the projection as it was then,
    kept under `name@until` in the rebuild tables); returns the result's checksum and rows."""
    label = projection.name if until is None else as_of_label(projection.name, until)
    await asyncio.to_thread(store.reset, label, REBUILD)
    ends = await event_log.end_offsets(topics)
    await _build(projection, store, event_log, topics, label, ends, None, until, progress)
    if until is not None:
        return await asyncio.to_thread(store.checksum, label, REBUILD)
    for _ in range(MAX_CATCH_UPS):
        rebuilt = _offsets(await asyncio.to_thread(store.positions, label, REBUILD))
        live = _offsets(await asyncio.to_thread(store.positions, projection.name, LIVE))
        behind = {tp: end for tp, end in live.items() if end > rebuilt.get(tp, 0)}
        if behind:  # the live projector applied more meanwhile: read exactly that too
            await _build(projection, store, event_log, topics, label, behind,
                         {tp: rebuilt.get(tp, 0) for tp in behind}, None, None)
        if await asyncio.to_thread(store.swap_in, projection.name, label):
            return await asyncio.to_thread(store.checksum, projection.name, LIVE)
    raise RuntimeError(f"{projection.name}: the live projector stayed ahead of the rebuild; try again")

"""A per-process cache of recent aggregates, so a command does not replay a whole history.

An LRU of `CACHE_SIZE` aggregates per application. Every load brings the cached aggregate up to
date by reading only the events after its cached version (one indexed query: what other
processes saved meanwhile) and hands out a deep copy, so a command that fails half-way leaves the
cache untouched.

Why this is eventsourcing's repository with one change: its `get` copies the cached aggregate
after releasing the per-aggregate lock it fast-forwards under, so one request could copy an
aggregate while another request's load was advancing it, and decide on a state that never
existed (half of an event applied). Here the lock covers the fast-forward and the copy.

Why it cannot lose an update: the cache only saves reading; writing stays guarded by the store's
optimistic concurrency. A copy that went stale before its save (another process saved the same
aggregate meanwhile) fails on its version with IntegrityError, which `save_with_retry` answers by
loading again and the gateway answers with 409.
"""

from __future__ import annotations

import copy
import datetime
import threading
import uuid
import zlib
from contextlib import ExitStack, contextmanager
from copy import deepcopy
from typing import Any, Iterator, Sequence

from eventsourcing.application import AggregateNotFoundError, Repository, project_aggregate

CACHE_SIZE = 1000  # aggregates per application and process; the long-lived ones are the point
LOCK_STRIPES = 64  # loads of different aggregates rarely wait for each other; memory stays fixed

# Values that never change are shared by a copy, as `deepcopy` already shares strings, numbers
# and Decimals. It rebuilt every UUID and datetime of a cached aggregate through `__reduce_ex__`:
# half of the copy that every load hands out.
for _immutable in (uuid.UUID, datetime.datetime, datetime.date, datetime.time, datetime.timedelta):
    copy._deepcopy_dispatch[_immutable] = copy._deepcopy_atomic  # type: ignore[attr-defined]


class Unsaved(dict):
    """Aggregates changed but not saved yet, by id, and the copies of them handed out."""

    def __init__(self) -> None:
        super().__init__()
        self._handed_out: dict[int, Any] = {}  # by identity: kept alive, so no id is reused

    def copy_of(self, aggregate_id: Any) -> Any:
        copied = deepcopy(self[aggregate_id])
        self._handed_out[id(copied)] = copied
        return copied

    def handed_out(self, aggregate: Any) -> bool:
        """Whether `aggregate` is a copy of an unsaved one (not one loaded or made apart from it)."""
        return self._handed_out.get(id(aggregate)) is aggregate


class ConsistentCacheRepository(Repository):
    """eventsourcing's repository, its cache read, fast-forwarded and copied under one lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        self._unsaved = threading.local()

    @contextmanager
    def seeing_unsaved(self) -> Iterator[Unsaved]:
        """Within the block, on this thread, a load of an aggregate put in the mapping it yields
        hands out a copy of that one, unsaved changes and all, instead of what the store holds:
        reactions saved together then decide on what each other changed, as they would if each
        had been saved before the next one ran."""
        outer = getattr(self._unsaved, "aggregates", None)
        self._unsaved.aggregates = Unsaved()
        try:
            yield self._unsaved.aggregates
        finally:
            self._unsaved.aggregates = outer

    def _unsaved_copies(self, aggregate_ids: Sequence[Any]) -> dict[Any, Any]:
        unsaved = getattr(self._unsaved, "aggregates", None)
        if not unsaved:
            return {}
        return {i: unsaved.copy_of(i) for i in aggregate_ids if i in unsaved}

    def get(self, aggregate_id: Any, *, version: int | None = None, projector_func=project_aggregate,
            fastforward_skipping: bool = False, deepcopy_from_cache: bool = True) -> Any:
        if version is None and (unsaved := self._unsaved_copies([aggregate_id])):
            return unsaved[aggregate_id]
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, projector_func=projector_func)
        with self._stripes[self._stripe(aggregate_id)]:
            try:
                aggregate = self.cache.get(aggregate_id)
            except KeyError:
                aggregate = self._reconstruct_aggregate(aggregate_id, None, projector_func)
            else:
                try:  # events are applied to the cached object itself
                    aggregate = projector_func(aggregate, self.event_store.get(originator_id=aggregate_id,
                                                                               gt=aggregate.version))
                except Exception:
                    self.cache.get(aggregate_id, evict=True)  # maybe half-applied: the next load replays
                    raise
                if aggregate is None:
                    raise AggregateNotFoundError(aggregate_id)
            self.cache.put(aggregate_id, aggregate)
            return deepcopy(aggregate) if deepcopy_from_cache and self.deepcopy_from_cache else aggregate

    def get_all(self, aggregate_ids: Sequence[Any], projector_func=project_aggregate) -> dict[Any, Any]:
        """The aggregates of `aggregate_ids` that exist, by id, from one read of the store: each
        cached one brought up to date, the others replayed. Copies, as `get` hands out."""
        wanted = list(dict.fromkeys(aggregate_ids))
        if self.snapshot_store is not None:  # snapshots are read one by one
            return {found.id: found for found in map(self._get_or_none, wanted) if found is not None}
        unsaved = self._unsaved_copies(wanted)
        if unsaved:
            rest = [i for i in wanted if i not in unsaved]
            return {**(self.get_all(rest, projector_func) if rest else {}), **unsaved}
        stripes = sorted({self._stripe(aggregate_id) for aggregate_id in wanted})  # one order: no deadlock
        with ExitStack() as held:
            for stripe in stripes:
                held.enter_context(self._stripes[stripe])
            cached = {}
            for aggregate_id in wanted:
                try:
                    cached[aggregate_id] = self.cache.get(aggregate_id)
                except KeyError:
                    pass
            stored = self.event_store.recorder.select_events_after(
                [(aggregate_id, cached[aggregate_id].version if aggregate_id in cached else 0)
                 for aggregate_id in wanted])
            events: dict[Any, list[Any]] = {}
            for stored_event in stored:
                events.setdefault(stored_event.originator_id, []).append(
                    self.event_store.mapper.to_domain_event(stored_event))
            found = {}
            for aggregate_id in wanted:
                try:
                    aggregate = projector_func(cached.get(aggregate_id), events.get(aggregate_id, []))
                except Exception:
                    if aggregate_id in cached:  # maybe half-applied: the next load replays
                        self.cache.get(aggregate_id, evict=True)
                    raise
                if aggregate is not None:
                    self.cache.put(aggregate_id, aggregate)
                    found[aggregate_id] = deepcopy(aggregate) if self.deepcopy_from_cache else aggregate
            return found

    def _get_or_none(self, aggregate_id: Any) -> Any:
        try:
            return self.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _stripe(self, aggregate_id: Any) -> int:
        return zlib.crc32(str(aggregate_id).encode()) % LOCK_STRIPES


def repository_for(event_store: Any, snapshot_store: Any, cache_size: int | None) -> Repository:
    """A cached repository, or eventsourcing's plain one when `cache_size` is 0 or None."""
    if not cache_size:
        return Repository(event_store=event_store, snapshot_store=snapshot_store)
    return ConsistentCacheRepository(event_store=event_store, snapshot_store=snapshot_store,
                                     cache_maxsize=cache_size, fastforward=True, deepcopy_from_cache=True)

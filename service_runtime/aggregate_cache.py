"""A per-process cache of recent aggregates, so a command does not replay a whole history.

This is eventsourcing's own repository cache, set up through the store's environment: an LRU of
`CACHE_SIZE` aggregates per application, each brought up to date on every `repository.get` by
reading only the events after its cached version ("fast-forward", one indexed query), and handed
out as a deep copy, so a command that fails half-way leaves the cached state untouched.

Why it cannot lose an update: the cache only saves reading; writing stays guarded by the store's
optimistic concurrency. A copy that went stale before its save (another process saved the same
aggregate meanwhile) fails on its version with IntegrityError, which `save_with_retry` answers by
loading again (fast-forwarded to the other writer's version) and the gateway answers with 409.
"""

from __future__ import annotations

from eventsourcing.application import Application

CACHE_SIZE = 1000  # aggregates per application and process; the long-lived ones are the point


def cache_env(size: int = CACHE_SIZE) -> dict[str, str]:
    """eventsourcing settings for the repository cache (merged into a store's environment)."""
    return {
        Application.AGGREGATE_CACHE_MAXSIZE: str(size),
        Application.AGGREGATE_CACHE_FASTFORWARD: "y",  # every get reads what other processes saved
        Application.DEEPCOPY_FROM_AGGREGATE_CACHE: "y",  # commands change a copy, never the cache
    }

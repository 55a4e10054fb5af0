"""Endpoints that run on the server's event loop instead of a worker thread.

FastAPI runs a plain `def` endpoint on one of anyio's worker threads: two wakes across threads
per request, and the interpreter lock passed back and forth while the loop and the worker both
run. On the lifecycle's routes that hop cost the services about a tenth of their CPU. An
endpoint whose work is a few reads and a save in its service's own store (about a millisecond)
runs on the loop instead: `@on_loop` under the route's decorator.

Never for an endpoint that calls the outside world (a payment provider, a marketplace, a
carrier) or takes a large body: the loop also runs the process's consumers, relay, timers and
Kafka heartbeats, and a slow partner would hold them all. The store itself can be slow too (a
restart, an outage): a call that takes longer than SLOW_SECONDS, or fails because the database
is away, sends every `on_loop` endpoint back to worker threads for THREADS_FOR seconds. So an
outage blocks the loop once, for at most the connect timeout (2 s), well inside the consumers'
session timeout.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any, Callable, TypeVar

from starlette.concurrency import run_in_threadpool

from service_runtime import database

SLOW_SECONDS = 0.25
THREADS_FOR = 30.0  # seconds on worker threads after a slow or failed call
log = logging.getLogger("kongfu.http")

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class LoopGuard:
    """Whether `on_loop` endpoints may run on the loop now: not within THREADS_FOR seconds of
    a call that was slow or found the database away."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.threads_until = float("-inf")

    def on_loop(self) -> bool:
        return self.clock() >= self.threads_until

    def trip(self, endpoint: str, why: str) -> None:
        self.threads_until = self.clock() + THREADS_FOR
        log.warning("%s %s: endpoints go back to worker threads for %.0f s", endpoint, why, THREADS_FOR)


guard = LoopGuard()  # one per process: the process has one loop


def on_loop(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, a sync function, as a coroutine FastAPI awaits on the loop (same signature,
    so parameters and dependencies resolve as before); on a worker thread while `guard` says so."""
    name = endpoint.__qualname__

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        if not guard.on_loop():
            return await run_in_threadpool(endpoint, *args, **kwargs)
        started = guard.clock()
        try:
            return endpoint(*args, **kwargs)
        except (database.DatabaseUnavailable, *database.UNAVAILABLE_ERRORS) as exc:
            guard.trip(name, f"found the database away ({exc.__class__.__name__})")
            raise
        finally:
            took = guard.clock() - started
            if took > SLOW_SECONDS and guard.on_loop():
                guard.trip(name, f"took {took:.2f} s on the loop")

    return run  # type: ignore[return-value]

"""Short store work on the server's event loop instead of a worker thread.

FastAPI runs a plain `def` endpoint on one of anyio's worker threads, and consumers and
projectors handed each fetched batch to a thread: two wakes across threads each time, and the
interpreter lock passed back and forth while the loop and the worker both run. On a lifecycle
the endpoints' hops cost the services about a tenth of their CPU, and the batches' as much
again. Work that is a few reads and saves in the service's own store (about a millisecond a
request or a reaction) runs on the loop instead: an endpoint with `@on_loop` under its route's
decorator, a consumer's or projector's batch of up to SHORT_BATCH records through `run_short`.
Handlers and projections touch only their store; what reaches the outside world is sent by a
dispatcher or an endpoint.

Never for an endpoint that calls the outside world (a payment provider, a marketplace, a
carrier) or takes a large body: the loop runs all of the process's work and its Kafka
heartbeats, and a slow partner would hold them all. The store itself can be slow too (a
restart, an outage): work that takes longer than SLOW_SECONDS, or finds the database away,
sends all of it back to worker threads for THREADS_FOR seconds. So an outage holds the loop
once every THREADS_FOR seconds, for as long as the store's own retries take (ten, 0.2 s apart:
3 s in the fault schedule's database restart, where the calls then succeeded), inside the
consumers' 10 s session timeout.
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
SHORT_BATCH = 50  # records: a longer batch (a backlog after a restart) takes a thread
log = logging.getLogger("kongfu.on_loop")

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
T = TypeVar("T")


class LoopGuard:
    """Whether short work may run on the loop now: not within THREADS_FOR seconds of a call
    that was slow or found the database away."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.threads_until = float("-inf")

    def on_loop(self) -> bool:
        return self.clock() >= self.threads_until

    def trip(self, what: str, why: str) -> None:
        self.threads_until = self.clock() + THREADS_FOR
        log.warning("%s %s: short store work goes back to worker threads for %.0f s", what, why,
                    THREADS_FOR)


guard = LoopGuard()  # one per process: the process has one loop


async def run_short(what: str, work: Callable[[], T], short: bool = True) -> T:
    """`work()`, sync store work, run on the loop if it is `short` and the guard allows, else on
    a worker thread. `what` names it in the guard's warning."""
    if not (short and guard.on_loop()):
        return await run_in_threadpool(work)
    started = guard.clock()
    try:
        return work()
    except (database.DatabaseUnavailable, *database.UNAVAILABLE_ERRORS) as exc:
        guard.trip(what, f"found the database away ({exc.__class__.__name__})")
        raise
    finally:
        took = guard.clock() - started
        if took > SLOW_SECONDS and guard.on_loop():
            guard.trip(what, f"took {took:.2f} s on the loop")


def on_loop(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, a sync function, as a coroutine FastAPI awaits on the loop (same signature,
    so parameters and dependencies resolve as before); on a worker thread while `guard` says so."""
    name = endpoint.__qualname__

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_short(name, functools.partial(endpoint, *args, **kwargs))

    run.runs_on_loop = True  # type: ignore[attr-defined]  # for the check that keeps the rule (tests)
    return run  # type: ignore[return-value]

"""A consumer's or projector's short batch is handled on the event loop, without a hand-off to a
worker thread; a long batch (a backlog) and every batch while the loop guard says so take a
thread, with the same outcome."""

from __future__ import annotations

import asyncio
import threading

import pytest

from kongfu.generated_lifecycles import append_lifecycles, lifecycle_records
from service_runtime import consumer, on_loop, projectors
from service_runtime.consumer import ConsumerRunner
from service_runtime.eventlog import topic_for
from service_runtime.local_log import LocalEventLog
from service_runtime.on_loop import LoopGuard
from service_runtime.projections import ProjectionStore
from service_runtime.projectors import ProjectorRunner
from service_runtime.settings import Settings
from services.purchasing.bootstrap import bootstrap
from services.warehouse.projections import TRACEABILITY

ORDERS, WAREHOUSE = topic_for("orders"), topic_for("warehouse")


@pytest.fixture
def purchasing(tmp_path):
    parts = bootstrap(Settings(mode="embedded", var_dir=tmp_path))
    yield parts
    parts.app.close()


async def threads_of(batch_handler, batch) -> tuple[int, set[int]]:
    """The loop's thread and the threads `batch_handler` ran the work on."""
    return threading.get_ident(), await batch_handler(batch)


def test_a_short_consumer_batch_is_handled_on_the_loop_a_long_one_on_a_thread(purchasing, tmp_path, monkeypatch):
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    asyncio.run(log.publish([r for n in range(3) for r in lifecycle_records(n) if r.topic == ORDERS]))
    records = log.read([ORDERS], {}, 100)
    seen: set[int] = set()
    handlers = dict(purchasing.handlers)
    placed = handlers["orders.OrderPlaced"]

    def recording(payload, envelope):
        seen.add(threading.get_ident())
        return placed(payload, envelope)

    handlers["orders.OrderPlaced"] = recording
    runner = ConsumerRunner("purchasing", purchasing.app, log, [ORDERS], handlers)

    async def handled(batch) -> set[int]:
        seen.clear()
        outcomes = await runner.handle_batch(batch)
        assert "dead-lettered" not in outcomes
        return set(seen)

    loop_thread, threads = asyncio.run(threads_of(handled, records[:3]))
    assert threads == {loop_thread}

    monkeypatch.setattr(consumer, "SHORT_BATCH", 2)  # the same records, now a long batch
    loop_thread, threads = asyncio.run(threads_of(handled, records[3:6]))
    assert threads and loop_thread not in threads

    monkeypatch.setattr(consumer, "SHORT_BATCH", 50)
    tripped = LoopGuard()
    tripped.trip("an earlier call", "was slow")
    monkeypatch.setattr(on_loop, "guard", tripped)
    loop_thread, threads = asyncio.run(threads_of(handled, records[6:]))
    assert threads and loop_thread not in threads


def test_a_short_projector_batch_is_applied_on_the_loop_a_long_one_on_a_thread(tmp_path, monkeypatch):
    settings = Settings(mode="embedded", var_dir=tmp_path)
    append_lifecycles(settings, 2)
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    store = ProjectionStore(settings, "warehouse", "warehouse")
    records = log.read([WAREHOUSE], {}, 1000)
    runner = ProjectorRunner([(TRACEABILITY, [WAREHOUSE])], store, log, "test")
    seen: set[int] = set()
    apply = runner.apply

    def recording(batch):
        seen.add(threading.get_ident())
        apply(batch)

    runner.apply = recording
    handle_batch = runner.follower().handle_batch

    async def applied(batch) -> set[int]:
        seen.clear()
        await handle_batch(batch)
        return set(seen)

    try:
        half = len(records) // 2
        loop_thread, threads = asyncio.run(threads_of(applied, records[:half]))
        assert threads == {loop_thread}
        monkeypatch.setattr(projectors, "SHORT_BATCH", 1)
        loop_thread, threads = asyncio.run(threads_of(applied, records[half:]))
        assert threads and loop_thread not in threads
        assert store.position(TRACEABILITY.name, f"{WAREHOUSE}:0") == records[-1].offset
    finally:
        store.close()

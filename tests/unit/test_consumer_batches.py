"""The consumer runner on the embedded log, batch by batch: records of types the service does
not handle write nothing but still move its recorded position; a poison message is parked with
its reason while the rest of the batch takes effect; a redelivered batch changes nothing."""

from __future__ import annotations

import asyncio
import json

import pytest
from prometheus_client import REGISTRY

from kongfu.generated_lifecycles import lifecycle_records
from service_runtime.consumer import ConsumerRunner
from service_runtime.eventlog import OutgoingRecord, dead_letter_topic, topic_for
from service_runtime.local_log import LocalEventLog
from service_runtime.postgres_recorder import INBOX_KWARG
from service_runtime.settings import Settings
from services.purchasing.bootstrap import bootstrap

ORDERS = topic_for("orders")


@pytest.fixture
def purchasing(tmp_path):
    parts = bootstrap(Settings(mode="embedded", var_dir=tmp_path))
    yield parts
    parts.app.close()


def orders_records(n: int) -> list[OutgoingRecord]:
    return [r for r in lifecycle_records(n) if r.topic == ORDERS]  # placed, paid, confirmed


def published_count(parts) -> int:
    return len(list(parts.app.recorder.select_notifications(start=1, limit=10_000)))


async def run_until_position(runner: ConsumerRunner, offset: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    for _ in range(200):
        if await runner.recorded_position(ORDERS, 0) == offset:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task


def test_a_batch_with_a_poison_message_and_unhandled_types(purchasing, tmp_path):
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    first, second = orders_records(0), orders_records(1)
    poison = OutgoingRecord(ORDERS, b"k", b'{"type": "orders.OrderPlaced", "not": "an envelope"}')
    batch = first + [poison] + second[:2]  # ends with an unhandled type (orders.PaymentRecorded)
    asyncio.run(log.publish(batch))
    runner = ConsumerRunner("purchasing", purchasing.app, log, [ORDERS], purchasing.handlers)

    asyncio.run(run_until_position(runner, len(batch) - 1))

    assert asyncio.run(runner.recorded_position(ORDERS, 0)) == len(batch) - 1
    parked = log.read([dead_letter_topic(ORDERS)], {}, 10)
    assert len(parked) == 1 and parked[0].value == poison.value
    assert "envelope invalid" in parked[0].header("dlq_reason")
    effects = published_count(purchasing)
    assert effects > 0  # both orders' handled events took effect around the poison
    # The first order's reactions were saved with the batch's part before the poison, the
    # second's after it: each order has its purchase tasks.
    saved = b"".join(n.state for n in purchasing.app.recorder.select_notifications(start=1, limit=10_000))
    for order in (first, second):
        assert json.loads(order[0].value)["order_id"].encode() in saved

    # The whole batch delivered again (a redelivered offset, a re-published event id): no new effects.
    records = log.read([ORDERS], {}, 100)
    outcomes = [asyncio.run(runner.handle(r)) for r in records]
    # Each reaction finds its facts known (the order, its tasks) and changes nothing: nothing to
    # save, not even the event id, which would only have said the same.
    assert outcomes == ["handled", "not handled", "handled", "dead-lettered", "handled", "not handled"]
    assert published_count(purchasing) == effects
    assert len(log.read([dead_letter_topic(ORDERS)], {}, 10)) == 2  # parked again, still with a reason


def test_a_shared_consumer_starting_behind_the_worker_hands_it_only_new_records(purchasing, tmp_path):
    """A process's consumer shared with a projector starts at the earlier of the two positions:
    the worker part skips what its tracking rows say it handled, without running a handler."""
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    records = orders_records(0) + orders_records(1)
    asyncio.run(log.publish(records))
    runner = ConsumerRunner("purchasing", purchasing.app, log, [ORDERS], purchasing.handlers)
    asyncio.run(run_until_position(runner, len(records) - 1))
    effects = published_count(purchasing)
    handed: list[int] = []

    async def counted(batch):
        handed.extend(r.offset for r in batch)
        return ["handled"] * len(batch)

    runner.handle_batch = counted
    follower = runner.follower()
    assert asyncio.run(follower.start_position(ORDERS, 0)) == len(records) - 1
    asyncio.run(log.publish(orders_records(2)[:1]))
    asyncio.run(follower.handle_batch(log.read([ORDERS], {}, 100)))  # from the beginning, as a projector would

    assert handed == [len(records)]  # only the new record
    assert published_count(purchasing) == effects


def test_a_position_past_messages_without_a_handler_is_recorded_at_most_once_a_second(purchasing, tmp_path,
                                                                                      monkeypatch):
    """Such messages change nothing, so their position is only a shortcut for a restart: recorded
    for the first batch, then not again within POSITIONS_ONLY_EVERY, where it cost a write a batch."""
    from service_runtime import consumer

    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    paid = [orders_records(n)[1] for n in range(3)]  # orders.PaymentRecorded: purchasing has no handler
    asyncio.run(log.publish(paid))
    records = log.read([ORDERS], {}, 10)
    runner = ConsumerRunner("purchasing", purchasing.app, log, [ORDERS], purchasing.handlers)
    now = [1000.0]
    monkeypatch.setattr(consumer.time, "monotonic", lambda: now[0])

    assert asyncio.run(runner.handle_batch(records[:1])) == ["not handled"]
    assert asyncio.run(runner.recorded_position(ORDERS, 0)) == records[0].offset
    now[0] += consumer.POSITIONS_ONLY_EVERY / 2
    asyncio.run(runner.handle_batch(records[1:2]))
    assert asyncio.run(runner.recorded_position(ORDERS, 0)) == records[0].offset  # not written again yet
    now[0] += consumer.POSITIONS_ONLY_EVERY / 2
    asyncio.run(runner.handle_batch(records[2:]))
    assert asyncio.run(runner.recorded_position(ORDERS, 0)) == records[2].offset
    assert published_count(purchasing) == 0


def test_reactions_that_change_nothing_write_nothing_but_their_position(purchasing, tmp_path):
    """A placed order known already changes nothing in purchasing (a re-published event): each
    was a transaction (event id and position); now one position past all of them, at the end."""
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    placed = [orders_records(n)[0] for n in range(2)]  # orders.OrderPlaced
    asyncio.run(log.publish(placed + placed))  # published, then again as after a relay's crash
    records = log.read([ORDERS], {}, 10)
    runner = ConsumerRunner("purchasing", purchasing.app, log, [ORDERS], purchasing.handlers)
    saves = []
    insert_events = purchasing.app.recorder.insert_events
    purchasing.app.recorder.insert_events = lambda *a, **k: saves.append(k) or insert_events(*a, **k)

    unchanged = REGISTRY.get_sample_value("kongfu_events_unchanged_total", {"service": "purchasing", "topic": ORDERS})
    assert asyncio.run(runner.handle_batch(records)) == ["handled"] * 4
    assert len(saves) == 1 and len(saves[0][INBOX_KWARG]) == 2  # the two orders, saved together
    assert REGISTRY.get_sample_value("kongfu_events_unchanged_total",
                                     {"service": "purchasing", "topic": ORDERS}) == (unchanged or 0) + 2
    assert asyncio.run(runner.recorded_position(ORDERS, 0)) == records[-1].offset
    assert published_count(purchasing) == 2

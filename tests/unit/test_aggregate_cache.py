"""The per-process aggregate cache hands every load a state that existed: while one thread loads an
aggregate that another thread's load is bringing up to date, neither sees half an event applied."""

from __future__ import annotations

import threading
import time

from eventsourcing.domain import event

from service_runtime.aggregate_cache import ConsistentCacheRepository
from service_runtime.settings import Settings
from service_runtime.store import ServiceApplication, store_env
from service_runtime.tracing import TracedAggregate


class Ledger(TracedAggregate):
    @event("Opened")
    def __init__(self) -> None:
        self.entries: list[int] = []
        self.total = 0

    @event("Entered")
    def enter(self, amounts: list[int]) -> None:
        for amount in amounts:  # a long mutation: a copy taken half-way would show it
            self.entries.append(amount)
        self.total += sum(amounts)


class LedgerApp(ServiceApplication):
    name = "ledger"


def test_concurrent_loads_never_copy_an_aggregate_half_brought_up_to_date(tmp_path):
    env = store_env("ledger", Settings(mode="embedded", var_dir=tmp_path))
    cached, writer = LedgerApp(env=env), LedgerApp(env={**env, "AGGREGATE_CACHE_MAXSIZE": "0"})
    assert isinstance(cached.repository, ConsistentCacheRepository)
    assert not isinstance(writer.repository, ConsistentCacheRepository)
    ledger = Ledger()
    writer.save(ledger)
    torn: list[tuple[int, int]] = []
    stop = threading.Event()

    def load_forever() -> None:
        while not stop.is_set():
            seen = cached.repository.get(ledger.id)
            if sum(seen.entries) != seen.total or len(seen.entries) != 500 * (seen.version - 1):
                torn.append((seen.version, len(seen.entries)))

    loaders = [threading.Thread(target=load_forever) for _ in range(4)]
    for loader in loaders:
        loader.start()
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            current = writer.repository.get(ledger.id)  # another process, as far as the cache knows
            current.enter(list(range(500)))
            writer.save(current)
    finally:
        stop.set()
        for loader in loaders:
            loader.join()
    assert torn == []
    final = cached.repository.get(ledger.id)
    assert final.total == writer.repository.get(ledger.id).total and final.version > 2


class Counter(TracedAggregate):
    @event("Opened")
    def __init__(self) -> None:
        self.steps: list[int] = []

    @event("Stepped")
    def step(self, to: int) -> None:
        self.steps.append(to)
        if to in FAILING_STEPS:  # an event that cannot be applied, half-way through its mutation
            raise RuntimeError(f"step {to} cannot be applied")


FAILING_STEPS: set[int] = set()


class CounterApp(ServiceApplication):
    name = "counter"


def test_an_aggregate_that_failed_to_come_up_to_date_leaves_the_cache(tmp_path):
    env = store_env("counter", Settings(mode="embedded", var_dir=tmp_path))
    cached, writer = CounterApp(env=env), CounterApp(env={**env, "AGGREGATE_CACHE_MAXSIZE": "0"})
    counter = Counter()
    writer.save(counter)
    assert cached.repository.get(counter.id).steps == []  # cached at version 1
    counter.step(1)
    writer.save(counter)
    FAILING_STEPS.add(1)
    try:
        try:
            cached.repository.get(counter.id)
            raise AssertionError("the fast-forward should have failed")
        except RuntimeError:
            pass
    finally:
        FAILING_STEPS.clear()
    # Kept, the cached object would hold step 1 half-applied at version 1 and get it applied again.
    assert cached.repository.get(counter.id).steps == [1]


class Shipment(TracedAggregate):
    @event("Booked")
    def __init__(self, parcel_id, booked_at) -> None:
        self.parcel_id, self.booked_at, self.legs = parcel_id, booked_at, [{"at": booked_at}]


class ShipmentApp(ServiceApplication):
    name = "shipments"


def test_a_load_hands_out_a_copy_that_shares_only_what_never_changes(tmp_path):
    import uuid
    from datetime import datetime, timezone

    app = ShipmentApp(env=store_env("shipments", Settings(mode="embedded", var_dir=tmp_path)))
    shipment = Shipment(uuid.uuid4(), datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc))
    app.save(shipment)
    first, second = app.repository.get(shipment.id), app.repository.get(shipment.id)
    assert first is not second and first.legs is not second.legs and first.legs[0] is not second.legs[0]
    first.legs.append({"at": None})  # a command that fails half-way leaves the cache as it was
    assert app.repository.get(shipment.id).legs == [{"at": shipment.booked_at}]
    assert first.parcel_id is second.parcel_id and first.booked_at is second.booked_at, (
        "UUIDs and datetimes are rebuilt by every copy")


def test_aggregates_loaded_together_on_the_embedded_store(tmp_path):
    env = store_env("ledger", Settings(mode="embedded", var_dir=tmp_path))
    app = LedgerApp(env=env)
    first, second = Ledger(), Ledger()
    second.enter([5])
    app.save(first, second)
    app.find(first.id, Ledger)  # one cached, one not
    fresh = LedgerApp(env={**env, "AGGREGATE_CACHE_MAXSIZE": "0"})
    changed = fresh.repository.get(first.id)
    changed.enter([7])
    fresh.save(changed)  # as another process would
    missing = Ledger().id
    with app.loading_together(first.id, second.id, missing):
        assert app.find(first.id, Ledger).total == 7
        assert app.find(second.id, Ledger).total == 5
        assert app.find(missing, Ledger) is None

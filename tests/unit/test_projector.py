"""One projector consumer for all of a service's projections (embedded log): each projection
gets only its own topics, the consumer starts from the earliest position any projection
recorded, one that was ahead is not written twice, and the live result equals a rebuild."""

from __future__ import annotations

import asyncio

import pytest

from kongfu.generated_lifecycles import append_lifecycles
from service_runtime.eventlog import topic_for
from service_runtime.local_log import LocalEventLog
from service_runtime.projections import ProjectionStore
from service_runtime.projectors import ProjectorRunner
from service_runtime.replay import rebuild
from service_runtime.settings import Settings
from services.warehouse.projections import TRACEABILITY, UNMATCHED_PARCELS

WAREHOUSE = topic_for("warehouse")


def topics(projection) -> list[str]:
    return [topic_for(s) for s in projection.sources]


@pytest.fixture
def setting(tmp_path):
    settings = Settings(mode="embedded", var_dir=tmp_path)
    append_lifecycles(settings, 5)
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    store = ProjectionStore(settings, "warehouse", "warehouse")
    yield log, store
    store.close()


def test_one_consumer_feeds_every_projection_of_the_service(setting):
    log, store = setting
    ahead = ProjectorRunner([(UNMATCHED_PARCELS, topics(UNMATCHED_PARCELS))], store, log, "test")
    ahead.apply(log.read([WAREHOUSE], {}, 1000))  # this projection is already up to date
    unmatched_before = store.checksum(UNMATCHED_PARCELS.name)
    last_warehouse = store.position(UNMATCHED_PARCELS.name, f"{WAREHOUSE}:0")

    projector = ProjectorRunner([(TRACEABILITY, topics(TRACEABILITY)), (UNMATCHED_PARCELS, topics(UNMATCHED_PARCELS))],
                                store, log, "test")
    assert sorted(projector.topics) == sorted(topics(TRACEABILITY))
    assert asyncio.run(projector.recorded_position(WAREHOUSE, 0)) is None  # traceability has read nothing

    async def follow_to_the_end() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(projector.run(stop))
        for _ in range(200):
            if store.position(TRACEABILITY.name, f"{WAREHOUSE}:0") == last_warehouse:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(follow_to_the_end())
    assert store.checksum(UNMATCHED_PARCELS.name) == unmatched_before
    assert set(store.positions(UNMATCHED_PARCELS.name)) == {f"{WAREHOUSE}:0"}  # only its own topic
    assert set(store.positions(TRACEABILITY.name)) == {f"{t}:0" for t in topics(TRACEABILITY)
                                                       if log.read([t], {}, 1)}
    live = store.checksum(TRACEABILITY.name)
    assert live[1] > 0
    assert asyncio.run(rebuild(TRACEABILITY, store, log, topics(TRACEABILITY))) == live
    assert asyncio.run(rebuild(UNMATCHED_PARCELS, store, log, topics(UNMATCHED_PARCELS))) == unmatched_before
    assert asyncio.run(projector.recorded_position(WAREHOUSE, 0)) == last_warehouse

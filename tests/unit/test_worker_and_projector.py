"""A process that runs a service's worker and projector reads with one consumer: it starts from
the earlier of the two parts' recorded positions, each part gets each record of its topics once
and never one it had done before, and the projection is written before the worker's handlers
run on the same batch."""

from __future__ import annotations

import asyncio

from service_runtime.eventlog import topic_for
from service_runtime.projectors import ProjectorRunner, WorkerAndProjector
from service_runtime.replay import rebuild
from services.warehouse.projections import TRACEABILITY

ORDERS, WAREHOUSE = topic_for("orders"), topic_for("warehouse")


class RecordingWorker:
    """Stands in for a `ConsumerRunner`: its recorded positions, and what it was handed."""

    def __init__(self, event_log, topics, positions, store):
        self.event_log, self.topics, self.positions, self.store = event_log, topics, positions, store
        self.handled: list[tuple[str, int]] = []
        self.projected_first = True

    async def recorded_position(self, topic, partition):
        return self.positions.get(topic)

    async def handle_records(self, records):
        for record in records:
            projected = self.store.position(TRACEABILITY.name, f"{record.topic}:{record.partition}")
            if record.topic in (ORDERS, WAREHOUSE) and (projected is None or projected < record.offset):
                self.projected_first = False
            self.handled.append((record.topic, record.offset))

    def report_lag(self, lags):
        pass



def test_one_consumer_serves_the_worker_and_the_projector(lifecycles_and_warehouse_store):
    log, store = lifecycles_and_warehouse_store
    warehouse = [r.offset for r in log.read([WAREHOUSE], {}, 10_000)]
    orders = [r.offset for r in log.read([ORDERS], {}, 10_000)]
    worker_done = warehouse[len(warehouse) // 2]  # the worker had handled half of warehouse's records
    worker = RecordingWorker(log, [ORDERS, WAREHOUSE], {WAREHOUSE: worker_done}, store)
    projector = ProjectorRunner([(TRACEABILITY, [topic_for(s) for s in TRACEABILITY.sources])], store, log, "test")
    shared = WorkerAndProjector(worker, projector, "test.worker-and-projector")

    assert asyncio.run(shared.recorded_position(WAREHOUSE, 0)) is None, "the projection has read nothing yet"

    async def follow_to_the_end() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(shared.run(stop))
        for _ in range(200):
            if (WAREHOUSE, warehouse[-1]) in worker.handled and (ORDERS, orders[-1]) in worker.handled:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(follow_to_the_end())
    assert sorted(worker.handled) == sorted([(ORDERS, o) for o in orders] +
                                            [(WAREHOUSE, o) for o in warehouse if o > worker_done])
    assert worker.projected_first
    live = store.checksum(TRACEABILITY.name)
    assert live[1] > 0
    assert asyncio.run(rebuild(TRACEABILITY, store, log, [topic_for(s) for s in TRACEABILITY.sources])) == live

    # Restarted, the consumer starts after what both parts have done, and hands the worker nothing twice.
    worker.positions = {WAREHOUSE: warehouse[-1], ORDERS: orders[-1]}
    assert asyncio.run(shared.recorded_position(WAREHOUSE, 0)) == warehouse[-1]

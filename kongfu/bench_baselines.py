"""The bounds a bench run is read against, measured in the same run: the relay's producer and
the event store's raw writes (events per second and per CPU-second)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from kongfu.cpu import DRIVER, CpuMeter, difference
from service_runtime.eventlog import OutgoingRecord
from service_runtime.kafka_log import KafkaEventLog
from service_runtime.settings import Settings


def _rates(events: int, elapsed: float, spent: dict[str, float], counted: tuple[str, ...], what: str) -> dict[str, Any]:
    cpu = sum(c for g, c in spent.items() if g == DRIVER or g.startswith(counted))
    return {"events": events, "seconds": elapsed, "events_per_s": events / elapsed, "cpu_s": cpu,
            "events_per_cpu_s": events / cpu if cpu > 0 else float("nan"), "what": what}


def producer_baseline(meter: CpuMeter, settings: Settings, namespace: str, messages: int, size: int) -> dict[str, Any]:
    """The relay's own publish path (acks=all, idempotent) on a topic of the same partitioning."""
    log = KafkaEventLog(settings.kafka_bootstrap, settings.topic_partitions, "kongfu-bench", namespace)
    topic = f"{namespace}.bench.producer"
    batches = [[OutgoingRecord(topic, str(i % 64).encode(), b"x" * size)
                for i in range(start, min(start + 500, messages))] for start in range(0, messages, 500)]

    async def run() -> float:
        await log.ensure_topics([topic])
        try:
            await log.publish(batches[0][:1])  # metadata and producer id before the clock starts
            started = time.perf_counter()
            for batch in batches:
                await log.publish(batch)
            return time.perf_counter() - started
        finally:
            await log.stop()

    before = meter.snapshot()
    elapsed = asyncio.run(run())
    return _rates(messages, elapsed, difference(before, meter.snapshot()), ("kafka",),
                  f"acks=all idempotent, {size} B; CPU of driver + Kafka")


def probe_store(settings: Settings, namespace: str):
    """An event store of its own in the namespace (a schema the namespace's forgetting drops), and
    a one-event aggregate to save in it."""
    from eventsourcing.domain import Aggregate, event

    from service_runtime.store import ServiceApplication, ensure_schema, store_env

    class Probe(Aggregate):
        @event("Recorded")
        def __init__(self, payload: str) -> None:
            self.payload = payload

    name = f"{namespace}_storebench"
    bench_settings = settings.model_copy(update={"namespace": ""})
    ensure_schema(name, bench_settings)
    app = ServiceApplication(env=store_env(name, bench_settings))
    app.save(Probe(payload="warm-up"))
    return app, Probe


def store_baseline(meter: CpuMeter, settings: Settings, namespace: str, events: int, writers: int) -> dict[str, Any]:
    app, Probe = probe_store(settings, namespace)  # noqa: N806 - a class
    per_writer = events // writers

    def write() -> None:
        for _ in range(per_writer):
            app.save(Probe(payload="x" * 200))

    before = meter.snapshot()
    started = time.perf_counter()
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    spent = difference(before, meter.snapshot())
    app.close()
    return _rates(per_writer * writers, elapsed, spent, ("postgres",),
                  f"PostgreSQL event store, {writers} writers; CPU of driver + PostgreSQL")

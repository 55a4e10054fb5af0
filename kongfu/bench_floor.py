"""`make bench-floor`: what a lifecycle's operations cost at their least, on the local stack.

A lifecycle is a count of operations (HTTP requests, PostgreSQL transactions, events carried by
Kafka from one service to another) plus the work each one does. This measures, in one run:

- the counts per lifecycle, from lifecycles driven through the platform (as `make bench` does);
- each operation with nothing in it, CPU per operation from /proc of every process involved:
  a request the framework answers by itself (`GET /healthz`), an authenticated read that finds
  nothing (`GET /orders/<unknown>`: the token, one lookup, a 404), a database read that finds
  nothing and an event saved alone (an event store's own client, as a service uses it), and a
  hop (one record published with acks=all and fetched by one consumer, one at a time);
- the floor: requests x the framework's request + transactions x the empty read + events x the
  hop, against the platform's CPU per lifecycle in the same run.

Every event is published and fetched at least once, every request passes the framework, every
transaction is at least a round trip: the floor is what the operations cost before they do
anything. Batching lowers a hop's share at higher rates (the producer baseline of `make bench`);
at the bench's rate a service's fetch brings a few records.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("PGAPPNAME", "kongfu-bench-driver")  # the driver's own sessions, before any connects

from kongfu.bench import TRANSACTIONS_REPORTED_WITHIN, platform_on_stack, published_events  # noqa: E402
from kongfu.bench_baselines import probe_store  # noqa: E402
from kongfu.bench_driver import Driver  # noqa: E402
from kongfu.cpu import CpuMeter, database_transactions, difference, is_platform  # noqa: E402
from kongfu.local import ROOT, SERVICES  # noqa: E402
from kongfu.namespaces import forget_after_run  # noqa: E402
from service_runtime.eventlog import OutgoingRecord  # noqa: E402
from service_runtime.kafka_log import KafkaEventLog  # noqa: E402
from service_runtime.settings import Settings  # noqa: E402


def per_operation(meter: CpuMeter, repeat: int, operation: Callable[[], Any]) -> dict[str, float]:
    """CPU-ms per call by process group (the driver included: it plays a service's client)."""
    for _ in range(max(repeat // 20, 5)):  # connections, prepared statements, the broker's code warm
        operation()
    before = meter.snapshot()
    for _ in range(repeat):
        operation()
    return {group: cpu * 1000 / repeat for group, cpu in difference(before, meter.snapshot()).items()
            if cpu * 1000 / repeat >= 0.001}


def total(costs: dict[str, float], *groups: str) -> float:
    return sum(ms for group, ms in costs.items() if group.startswith(groups))


def hop_costs(meter: CpuMeter, settings: Settings, namespace: str, repeat: int) -> dict[str, dict[str, float]]:
    """One record published (the relay's producer) and fetched by one consumer, one at a time."""
    from aiokafka import AIOKafkaConsumer

    from service_runtime.fetch_pace import BUSY_FETCH_MIN_BYTES, BUSY_FETCH_WAIT_MS

    log = KafkaEventLog(settings.kafka_bootstrap, settings.topic_partitions, "kongfu-bench", namespace)
    topic = f"{namespace}.bench.hop"
    loop = asyncio.new_event_loop()

    async def subscribed() -> AIOKafkaConsumer:  # aiokafka's clients are made on their running loop
        return AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=f"{namespace}-hop",
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                isolation_level="read_committed", fetch_max_wait_ms=BUSY_FETCH_WAIT_MS,
                                fetch_min_bytes=BUSY_FETCH_MIN_BYTES)

    sent = iter(range(10**9))

    async def publish() -> None:
        await log.publish([OutgoingRecord(topic, str(next(sent) % 64).encode(), b"x" * 900)])

    async def hop() -> None:
        await publish()
        while not any((await consumer.getmany(timeout_ms=1000)).values()):
            pass

    consumer = None
    try:
        loop.run_until_complete(log.ensure_topics([topic]))
        published = per_operation(meter, repeat, lambda: loop.run_until_complete(publish()))  # nobody fetching
        consumer = loop.run_until_complete(subscribed())
        loop.run_until_complete(consumer.start())  # its warm-up hops take what was published before
        return {"publish": published, "hop": per_operation(meter, repeat, lambda: loop.run_until_complete(hop()))}
    finally:
        if consumer is not None:
            loop.run_until_complete(consumer.stop())
        loop.run_until_complete(log.stop())
        loop.close()


def request_costs(meter: CpuMeter, urls: dict[str, str], driver: Driver, repeat: int) -> dict[str, dict[str, float]]:
    client = driver.client()
    token = {"Authorization": f"Bearer {driver.token_for('customer-floor', 'customer')}"}
    return {"request": per_operation(meter, repeat, lambda: client.get(f"{urls['orders']}/healthz")),
            "authenticated read": per_operation(meter, repeat, lambda: client.get(
                f"{urls['orders']}/orders/{uuid.uuid4()}", headers=token))}


def store_costs(meter: CpuMeter, settings: Settings, namespace: str, repeat: int) -> dict[str, dict[str, float]]:
    app, probe = probe_store(settings, namespace)
    try:
        return {"database read": per_operation(meter, repeat, lambda: app.recorder.select_events(uuid.uuid4())),
                "event saved": per_operation(meter, repeat, lambda: app.save(probe(payload="x" * 200)))}
    finally:
        app.close()


def lifecycle_counts(meter: CpuMeter, settings: Settings, driver: Driver, lifecycles: int,
                     concurrency: int) -> dict[str, float]:
    events_before = asyncio.run(published_events(settings, SERVICES))
    transactions_before = database_transactions(settings.pg_dsn)
    driver.answers.clear()
    before = meter.snapshot()
    driver.run(lifecycles, concurrency)
    spent = difference(before, meter.snapshot())
    time.sleep(TRANSACTIONS_REPORTED_WITHIN)
    return {"requests": sum(driver.answers.values()) / lifecycles,
            "transactions": (database_transactions(settings.pg_dsn) - transactions_before) / lifecycles,
            "events": (asyncio.run(published_events(settings, SERVICES)) - events_before) / lifecycles,
            "platform_cpu_s": sum(cpu for group, cpu in spent.items() if is_platform(group)) / lifecycles}


def floor(counts: dict[str, float], units: dict[str, dict[str, float]]) -> dict[str, float]:
    """CPU-s per lifecycle the operations cost before they do anything."""
    request = total(units["request"], "orders")
    read = total(units["database read"], "driver", "postgres")
    hop = total(units["hop"], "driver", "kafka")
    parts = {"requests": counts["requests"] * request / 1000, "transactions": counts["transactions"] * read / 1000,
             "hops": counts["events"] * hop / 1000}
    return {**parts, "floor": sum(parts.values())}


def share(figures: dict[str, float], counts: dict[str, float]) -> float:
    """The floor as a percentage of what the platform spent: a ratio that holds when the machine's
    neighbours make every CPU figure of a run larger or smaller together."""
    return figures["floor"] / counts["platform_cpu_s"] * 100


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1000, help="calls of each empty operation")
    args = parser.parse_args(argv)
    namespace = f"floor{uuid.uuid4().hex[:8]}"
    settings = Settings(mode="stack", namespace=namespace)
    meter = CpuMeter(settings.pg_dsn, ROOT)
    print(f"KongfuMall floor (namespace {namespace}, {os.cpu_count()} cores)", flush=True)
    with platform_on_stack(settings, meter, Path(tempfile.mkdtemp(prefix="kongfu-floor-"))) as (urls, _, driver):
        driver.one()  # warm, as `make bench` does
        counts = lifecycle_counts(meter, settings, driver, args.lifecycles, args.concurrency)
        units = request_costs(meter, urls, driver, args.repeat)
    units |= store_costs(meter, settings, namespace, args.repeat)
    units |= hop_costs(meter, settings, namespace, args.repeat)
    print(f"per lifecycle ({args.lifecycles} at {args.concurrency}): {counts['requests']:.0f} requests, "
          f"{counts['transactions']:.0f} PostgreSQL transactions, {counts['events']:.0f} events; platform "
          f"{counts['platform_cpu_s']:.3f} CPU-s (raw)")
    for name, costs in units.items():
        spent = ", ".join(f"{group} {ms:.3f}" for group, ms in sorted(costs.items()))
        print(f"  {name:20} {sum(costs.values()):6.3f} CPU-ms ({spent})")
    figures = floor(counts, units)
    print(f"floor     {figures['floor']:.3f} CPU-s per lifecycle: requests {figures['requests']:.3f}, transactions "
          f"{figures['transactions']:.3f}, hops {figures['hops']:.3f}; {share(figures, counts):.0f} % of the "
          f"platform's {counts['platform_cpu_s']:.3f}, the rest is the work the operations carry", flush=True)
    print(f"cleanup   {forget_after_run(settings)}")


if __name__ == "__main__":
    main()

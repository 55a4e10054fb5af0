"""`make bench`: complete lifecycles on the local stack, with the baselines that bound them.

Prints, from one run on the same machine:
- baseline: the relay producer's raw rate (acks=all, idempotent) and the event store's raw write rate;
- lifecycles per second and events per second for N concurrent lifecycles through all six services;
- p50/p99 from an event's commit to its entry in the customer's timeline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from kongfu.demo import Lifecycle
from kongfu.local import start_platform
from service_runtime.auth import issue_token
from service_runtime.eventlog import KafkaEventLog, OutgoingRecord, topic_for
from service_runtime.settings import Settings


def producer_baseline(settings: Settings, namespace: str, messages: int, size: int) -> float:
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
            return messages / (time.perf_counter() - started)
        finally:
            await log.stop()

    return asyncio.run(run())


def store_baseline(settings: Settings, namespace: str, events: int, writers: int) -> float:
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
    per_writer = events // writers

    def write() -> None:
        for _ in range(per_writer):
            app.save(Probe(payload="x" * 200))

    started = time.perf_counter()
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = per_writer * writers / (time.perf_counter() - started)
    app.close()
    return rate


def quantile_from_histogram(buckets: list[tuple[float, float]], q: float) -> float:
    """Linear interpolation inside cumulative Prometheus buckets [(upper bound, count)]."""
    total = buckets[-1][1]
    target = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= target:
            if bound == float("inf"):
                return previous_bound
            share = (target - previous_count) / max(count - previous_count, 1e-9)
            return previous_bound + share * (bound - previous_bound)
        previous_bound, previous_count = bound, count
    return previous_bound


def timeline_delay(orders_url: str) -> tuple[float, float, int]:
    text = httpx.get(f"{orders_url}/metrics").text
    buckets = []
    for line in text.splitlines():
        if line.startswith('kongfu_projection_delay_seconds_bucket{') and 'projection="timeline"' in line:
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.rsplit(" ", 1)[1])))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return 0.0, 0.0, 0
    return quantile_from_histogram(buckets, 0.5), quantile_from_histogram(buckets, 0.99), int(buckets[-1][1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def count_events(settings: Settings, namespace: str) -> int:
    from service_runtime.eventlog import KafkaEventLog

    log = KafkaEventLog(settings.kafka_bootstrap, settings.topic_partitions, namespace=namespace)
    services = ("orders", "purchasing", "warehouse", "logistics", "claims", "fraud", "payments")
    ends = await log.end_offsets([topic_for(s, namespace) for s in services])
    return sum(ends.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=6)
    args = parser.parse_args()

    namespace = f"bench{uuid.uuid4().hex[:8]}"
    settings = Settings(mode="stack", namespace=namespace)
    jwt_secret, carrier_secret = uuid.uuid4().hex * 2, uuid.uuid4().hex
    print(f"KongfuMall bench (namespace {namespace}, {os.cpu_count()} cores)")

    producer_rate = producer_baseline(settings, namespace, messages=20_000, size=900)
    print(f"baseline  relay producer, acks=all idempotent, 900 B:  {producer_rate:10.0f} msg/s")
    store_rate = store_baseline(settings, namespace, events=2_000, writers=4)
    print(f"baseline  event store writes, PostgreSQL, 4 writers:   {store_rate:10.0f} events/s")

    log_dir = Path(tempfile.mkdtemp(prefix="kongfu-bench-"))
    from services.payments.providers.fake_stripe import FakeStripe

    stripe = FakeStripe(uuid.uuid4().hex).start()  # the card path: Stripe's API and signed webhooks
    env = {"KONGFU_MODE": "stack", "KONGFU_NAMESPACE": namespace, "KONGFU_JWT_SECRET": jwt_secret,
           "KONGFU_CARRIER_WEBHOOK_SECRET": carrier_secret, "KONGFU_VAR_DIR": str(log_dir / "var"),
           "KONGFU_LOG_LEVEL": "WARNING", "KONGFU_STRIPE_API_BASE": stripe.url,
           "KONGFU_STRIPE_WEBHOOK_SECRET": stripe.webhook_secret}
    urls, processes = start_platform(["--mode", "stack"], env, log_dir)
    stripe.webhook_url = f"{urls['payments']}/payments/webhooks/stripe"
    try:
        from services.logistics.carriers import FakeCarrier

        def one_lifecycle(_: int) -> str:
            trip = Lifecycle(urls, lambda sub, role: issue_token(jwt_secret, sub, [role], issuer=settings.jwt_issuer),
                             FakeCarrier(carrier_secret).webhook)
            result = trip.full_journey()
            trip.timeline_until(result["order_id"], "claim_decided")
            return result["order_id"]

        cpu_before = {name: cpu_seconds(p.proc.pid) for name, p in zip(urls, processes)}
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(one_lifecycle, range(args.lifecycles)))
        elapsed = time.perf_counter() - started
        events = asyncio.run(count_events(settings, namespace))
        p50, p99, samples = timeline_delay(urls["orders"])
        print(f"lifecycles {args.lifecycles} ({args.concurrency} at a time) in {elapsed:.1f} s: "
              f"{args.lifecycles / elapsed:.2f} lifecycles/s")
        print(f"events     {events} published: {events / elapsed:.0f} events/s "
              f"({events / elapsed / producer_rate:.1%} of the producer baseline, "
              f"{events / elapsed / store_rate:.1%} of the store baseline)")
        cpu = {name: cpu_seconds(p.proc.pid) - cpu_before[name] for name, p in zip(urls, processes)}
        total_cpu = sum(cpu.values())
        print(f"cpu        {total_cpu:.1f} s over the services; the payment path (payments service, card via "
              f"the Stripe fake, webhook-confirmed) {cpu['payments']:.1f} s = {cpu['payments'] / total_cpu:.1%}")
        print(f"commit → timeline: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms over {samples} events")
    finally:
        for process in processes:
            process.stop()
        stripe.stop()


if __name__ == "__main__":
    main()

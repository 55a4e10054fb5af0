"""`make bench`: what the platform costs per complete lifecycle on the local stack.

From one run on the same machine (CPU from /proc of every process involved, see kongfu.cpu):
- idle burn of the whole stack, measured first and subtracted from what follows;
- the baselines: the relay producer (acks=all, idempotent) and the event store's raw writes, as
  events per second and per CPU-second;
- N concurrent lifecycles through every service: CPU-s per lifecycle per process group and for the
  platform (services + PostgreSQL + Kafka; the driver is reported, not counted), lifecycles/s,
  events/s, commit → timeline p50/p99 at the rate reached;
- the commit → timeline p50/p99 again with lifecycles started at half the rate reached;
- replay of the timeline projection on ≥ 100,000 events (synthetic copies of a real lifecycle);
- the embedded default (`kongfu run`, one process) CPU per lifecycle, idle subtracted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

os.environ.setdefault("PGAPPNAME", "kongfu-bench-driver")  # the driver's own sessions, before any connects

from kongfu.bench_baselines import producer_baseline, store_baseline  # noqa: E402
from kongfu.bench_latency import delay_between, paced, timeline_buckets  # noqa: E402
from kongfu.bench_driver import Driver  # noqa: E402
from kongfu.cpu import DRIVER, CpuMeter, database_transactions, difference, is_platform  # noqa: E402
from kongfu.local import ROOT, SERVICES, ServiceProcess, start_platform  # noqa: E402
from kongfu.namespaces import forget_after_run  # noqa: E402
from service_runtime.eventlog import topic_for  # noqa: E402
from service_runtime.kafka_log import KafkaEventLog  # noqa: E402
from service_runtime.settings import Settings  # noqa: E402

TRANSACTIONS_REPORTED_WITHIN = 2.0  # seconds: PostgreSQL backends report their counts shortly after


def measured(meter: CpuMeter, seconds: float) -> dict[str, float]:
    """Cores each group burns at rest."""
    before = meter.snapshot()
    time.sleep(seconds)
    return {group: cpu / seconds for group, cpu in difference(before, meter.snapshot()).items()}


def without_idle(spent: dict[str, float], idle: dict[str, float], elapsed: float) -> dict[str, float]:
    return {group: cpu - idle.get(group, 0.0) * elapsed for group, cpu in spent.items()}


def family(group: str) -> str:
    if group.startswith("postgres"):
        return "postgres"
    return group if group in ("kafka", DRIVER) else "services"


async def published_events(settings: Settings, services: tuple[str, ...]) -> int:
    log = KafkaEventLog(settings.kafka_bootstrap, settings.topic_partitions, "kongfu-bench", settings.namespace)
    return sum((await log.end_offsets([topic_for(s, settings.namespace) for s in services])).values())


def replay_rate(meter: CpuMeter, settings: Settings, minimum_events: int, driven: int, log) -> dict[str, Any]:
    """Copies of a driven lifecycle until the timeline's topics hold `minimum_events`, then a
    rebuild of the timeline from offset 0, timed (the services are stopped: nothing competes)."""
    from kongfu import cli
    from kongfu.synthetic import append_lifecycles
    from service_runtime.heap import settle_after_startup
    from service_runtime.process import make_event_log, projection_topics
    from service_runtime.replay import rebuild

    parts, projection = cli._projection("timeline", settings)  # noqa: SLF001 - the replay command's lookup
    services = tuple(projection.sources)
    events, per_copy, started = asyncio.run(published_events(settings, services)), 0.0, time.perf_counter()
    while events < minimum_events:  # a copy holds the template order's events, fewer than a lifecycle's
        copies = int((minimum_events - events) / (per_copy or events / driven)) + 1
        per_copy = append_lifecycles(settings, copies) / copies
        events = asyncio.run(published_events(settings, services))
    log(f"synthetic  the timeline's topics hold {events} events ({time.perf_counter() - started:.1f} s to append)")
    event_log = make_event_log(settings, client_id="bench-replay")

    async def go():
        await event_log.start()
        try:
            return await rebuild(projection, parts.projection_store, event_log, projection_topics(projection, settings))
        finally:
            await event_log.stop()

    settle_after_startup()  # as `kongfu replay` does
    before, started = meter.snapshot(), time.perf_counter()
    _, rows = asyncio.run(go())
    elapsed, spent = time.perf_counter() - started, difference(before, meter.snapshot())
    cpu = sum(c for g, c in spent.items() if family(g) in ("postgres", "kafka", DRIVER))
    return {"projection": "timeline", "events": events, "rows": rows, "seconds": elapsed,
            "events_per_s": events / elapsed, "cpu_s": cpu, "events_per_cpu_s": events / cpu}


def embedded_cost(env: dict[str, str], lifecycles: int, idle_seconds: float, log_dir: Path) -> dict[str, Any]:
    """`kongfu run` (every service in one process, SQLite, in-process log): CPU per lifecycle."""
    from kongfu.cpu import read_stat

    process = ServiceProcess(["run", "--fake-stripe"], {**env, "KONGFU_VAR_DIR": str(log_dir / "embedded-var")},
                             log_dir / "embedded.log").start(timeout=180)
    try:
        def cpu() -> float:
            stat = read_stat(process.proc.pid)
            return stat.own + stat.reaped_children

        before = cpu()
        time.sleep(idle_seconds)
        idle = (cpu() - before) / idle_seconds
        urls = {s: process.url for s in SERVICES}
        settings = Settings()
        driver = Driver(urls, env["KONGFU_JWT_SECRET"], env["KONGFU_CARRIER_WEBHOOK_SECRET"], settings.jwt_issuer)
        before = cpu()
        elapsed = driver.run(lifecycles, min(2, lifecycles))
        spent = cpu() - before
        driver.close()
        return {"lifecycles": lifecycles, "seconds": elapsed, "idle_cores": idle,
                "cpu_s_per_lifecycle": (spent - idle * elapsed) / lifecycles}
    finally:
        process.stop()


def per_family(spent: dict[str, float], lifecycles: int) -> dict[str, float]:
    families: dict[str, float] = {}
    for group, cpu in spent.items():
        families[family(group)] = families.get(family(group), 0.0) + cpu / lifecycles
    return families


def report_cpu(raw: dict[str, float], lifecycles: int, idle: dict[str, float], elapsed: float, log) -> dict[str, Any]:
    """Per group: CPU-s per lifecycle as spent, and with the idle burn (cores x run time) taken off.
    On an oversubscribed machine the idle loops run less often than when idle was measured, so
    the subtracted figure can fall below the truth (even below 0); the raw one is an upper bound."""
    spent = without_idle(raw, idle, elapsed)
    log(f"{'process group':42} {'idle cores':>10} {'CPU-s/lifecycle':>16} {'idle subtracted':>16}")
    for group in sorted(spent, key=lambda g: (family(g), g)):
        log(f"{group:42} {idle.get(group, 0.0):10.3f} {raw[group] / lifecycles:16.3f} {spent[group] / lifecycles:16.3f}")
    platform = sum(cpu for g, cpu in spent.items() if is_platform(g)) / lifecycles
    platform_raw = sum(cpu for g, cpu in raw.items() if is_platform(g)) / lifecycles
    idle_platform = sum(c for g, c in idle.items() if is_platform(g))
    log("per lifecycle, raw: " + ", ".join(f"{f} {v:.3f}" for f, v in sorted(per_family(raw, lifecycles).items())))
    log("per lifecycle, idle subtracted: " + ", ".join(
        f"{f} {v:.3f}" for f, v in sorted(per_family(spent, lifecycles).items())))
    log(f"PLATFORM CPU per lifecycle (services + PostgreSQL + Kafka): {platform:.3f} CPU-s idle subtracted, "
        f"{platform_raw:.3f} raw; platform idle {idle_platform:.3f} cores")
    return {"per_group_raw": {g: c / lifecycles for g, c in raw.items()},
            "per_group": {g: c / lifecycles for g, c in spent.items()},
            "per_family_raw": per_family(raw, lifecycles), "per_family": per_family(spent, lifecycles),
            "platform_cpu_s_per_lifecycle": platform, "platform_cpu_s_per_lifecycle_raw": platform_raw,
            "idle_cores": idle, "platform_idle_cores": idle_platform}


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


@contextmanager
def platform_on_stack(settings: Settings, meter: CpuMeter, log_dir: Path
                      ) -> Iterator[tuple[dict[str, str], dict[str, str], Driver]]:
    """The services on the local stack in `settings.namespace`, each its own process (counted by
    `meter`), beside the Stripe fake (its API and signed webhooks: the card path), and a driver;
    yields their URLs, their environment and the driver, and stops them all on leaving."""
    from services.payments.providers.fake_stripe import SHARED_TEST_CARDS_ENV, FakeStripe

    jwt_secret, carrier_secret = uuid.uuid4().hex * 2, uuid.uuid4().hex
    stripe = FakeStripe(uuid.uuid4().hex).start()
    env = {"KONGFU_MODE": "stack", "KONGFU_NAMESPACE": settings.namespace, "KONGFU_JWT_SECRET": jwt_secret,
           "KONGFU_CARRIER_WEBHOOK_SECRET": carrier_secret, "KONGFU_VAR_DIR": str(log_dir / "var"),
           "KONGFU_LOG_LEVEL": "WARNING", "KONGFU_STRIPE_API_BASE": stripe.url,
           "KONGFU_STRIPE_WEBHOOK_SECRET": stripe.webhook_secret, **SHARED_TEST_CARDS_ENV}
    try:
        urls, processes = start_platform(["--mode", "stack"], env, log_dir)
    except BaseException:
        stripe.stop()
        raise
    meter.services = {p.proc.pid: f"{s} [all roles]" for s, p in zip(SERVICES, processes)}
    stripe.webhook_url = f"{urls['payments']}/payments/webhooks/stripe"
    driver = Driver(urls, jwt_secret, carrier_secret, settings.jwt_issuer)
    try:
        yield urls, env, driver
    finally:
        driver.close()
        for process in processes:
            process.stop()
        stripe.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--settle-seconds", type=float, default=0.0,
                        help="wait this long after the warm-up lifecycle before measuring idle: the platform "
                             "at rest, not in the tail of that lifecycle (its consumers go quiet 10 s after "
                             "their last record)")
    parser.add_argument("--paced-lifecycles", type=int, default=20,
                        help="lifecycles started at half the rate reached, for the latency there (0: none)")
    parser.add_argument("--replay-events", type=int, default=100_000)
    parser.add_argument("--embedded-lifecycles", type=int, default=4)
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--json", dest="json_out", help="also write the figures to this file")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, flush=True)

    namespace = f"bench{uuid.uuid4().hex[:8]}"
    settings = Settings(mode="stack", namespace=namespace)
    figures: dict[str, Any] = {"namespace": namespace, "cores": os.cpu_count(), "lifecycles": args.lifecycles,
                               "concurrency": args.concurrency}
    log(f"KongfuMall bench (namespace {namespace}, {os.cpu_count()} cores)")
    meter = CpuMeter(settings.pg_dsn, ROOT)
    figures["baselines"] = baselines = {
        "producer": producer_baseline(meter, settings, namespace, messages=20_000, size=900),
        "store": store_baseline(meter, settings, namespace, events=2_000, writers=4)}
    for name, b in baselines.items():
        log(f"baseline  {name:9} {b['events_per_s']:8.0f} events/s, {b['events_per_cpu_s']:8.0f} events per CPU-s "
            f"({b['what']})")

    log_dir = Path(tempfile.mkdtemp(prefix="kongfu-bench-"))
    with platform_on_stack(settings, meter, log_dir) as (urls, env, driver):
        driver.one()  # connections, pools, topics and consumer groups warm before anything is measured
        if args.settle_seconds:
            log(f"settle    {args.settle_seconds:.0f} s after the warm-up lifecycle ...")
            time.sleep(args.settle_seconds)
        tail = "" if args.settle_seconds else (", in the warm-up lifecycle's tail (the platform at rest: "
                                                "--settle-seconds 60)")
        log(f"idle      {args.idle_seconds:.0f} s with nothing running{tail} ...")
        idle = measured(meter, args.idle_seconds)
        events_before = asyncio.run(published_events(settings, SERVICES))
        load_before, before, delays_before = load_average(), meter.snapshot(), timeline_buckets(urls["orders"])
        transactions_before = database_transactions(settings.pg_dsn)
        driver.answers.clear()
        elapsed = driver.run(args.lifecycles, args.concurrency)
        raw = difference(before, meter.snapshot())
        time.sleep(TRANSACTIONS_REPORTED_WITHIN)
        transactions = (database_transactions(settings.pg_dsn) - transactions_before) / args.lifecycles
        answers = driver.answers_by_status()
        events = asyncio.run(published_events(settings, SERVICES)) - events_before
        p50, p99, samples = delay_between(delays_before, timeline_buckets(urls["orders"]))
        rate = args.lifecycles / elapsed
        log(f"lifecycles {args.lifecycles} ({args.concurrency} at a time) in {elapsed:.1f} s: {rate:.2f} lifecycles/s; "
            f"{events} events, {events / elapsed:.0f} events/s ({events / args.lifecycles:.0f} per lifecycle)")
        log(f"commit → timeline at {rate:.2f} lifecycles/s: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
            f"over {samples} events")
        log(f"database  {transactions:.0f} PostgreSQL transactions per lifecycle (each statement sent on its own is "
            "one; a count, robust to a busy machine)")
        log(f"answers   {sum(answers.values())} during the run, by status: "
            + ", ".join(f"{status} {count}" for status, count in sorted(answers.items()))
            + f"; 409 by service: {driver.conflicts_by_service() or 'none'}, of them lost races (two writers, "
              f"one aggregate): {driver.lost_races_by_service() or 'none'}")
        figures["run"] = {"answers_by_status": answers, "conflicts_by_service": driver.conflicts_by_service(),
                          "lost_races_by_service": driver.lost_races_by_service(), "seconds": elapsed,
                          "lifecycles_per_s": rate, "events": events, "database_transactions_per_lifecycle": transactions,
                          "events_per_s": events / elapsed, "timeline_p50_ms": p50 * 1000,
                          "timeline_p99_ms": p99 * 1000, "timeline_samples": samples,
                          "load_average_before": load_before, "load_average_after": load_average(),
                          **report_cpu(raw, args.lifecycles, idle, elapsed, log)}
        log(f"machine load average {load_before:.1f} before the run, {load_average():.1f} after "
            f"({os.cpu_count()} cores): above the cores, wall-clock rates and the idle subtraction understate")
        if args.paced_lifecycles:
            delays_before = timeline_buckets(urls["orders"])
            seconds = paced(driver.one, args.paced_lifecycles, rate / 2)
            p50, p99, samples = delay_between(delays_before, timeline_buckets(urls["orders"]))
            log(f"commit → timeline at half that rate ({args.paced_lifecycles} lifecycles started at {rate / 2:.2f}/s, "
                f"{seconds:.0f} s): p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms over {samples} events")
            figures["half_rate"] = {"lifecycles": args.paced_lifecycles, "lifecycles_per_s": rate / 2,
                                    "seconds": seconds, "timeline_p50_ms": p50 * 1000,
                                    "timeline_p99_ms": p99 * 1000, "timeline_samples": samples}
    if not args.skip_replay:
        figures["replay"] = replay = replay_rate(meter, settings, args.replay_events, args.lifecycles + 1, log)
        log(f"replay    {replay['projection']}: {replay['events']} events in {replay['seconds']:.1f} s = "
            f"{replay['events_per_s']:.0f} events/s, {replay['events_per_cpu_s']:.0f} per CPU-s (replayer + PostgreSQL + Kafka)")
    if not args.skip_embedded and args.embedded_lifecycles:
        figures["embedded"] = embedded = embedded_cost(
            {k: v for k, v in env.items() if k not in ("KONGFU_MODE", "KONGFU_STRIPE_API_BASE",
                                                        "KONGFU_STRIPE_WEBHOOK_SECRET")},
            args.embedded_lifecycles, min(args.idle_seconds, 10.0), log_dir)
        log(f"embedded  `kongfu run`: {embedded['cpu_s_per_lifecycle']:.3f} CPU-s per lifecycle "
            f"({embedded['lifecycles']} lifecycles, idle {embedded['idle_cores']:.3f} cores subtracted)")
    log(f"cleanup   {forget_after_run(settings)} (a broker's idle work grows with the topics it keeps)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2, default=str))
        log(f"figures written to {args.json_out}")


if __name__ == "__main__":
    main()

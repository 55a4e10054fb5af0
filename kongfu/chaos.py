"""`kongfu chaos` / `make chaos`: full lifecycles on the local stack while a fault schedule runs,
then a verdict: nothing lost, nothing duplicated, no dead letter, every projection's live
checksum equal to its replay, and per fault how long until the platform was whole again.

The platform runs as one process per service (like `make up`) in a fresh namespace. The driver
behaves like a real frontend (kongfu.demo.Lifecycle with retries). The first lifecycle runs
before any fault: its events per order are what every other lifecycle must produce, exactly.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

from kongfu.chaos_faults import FrontProxy, api_replica_killed, extra_process, lose_answers, second_worker_killed
from kongfu.demo import Lifecycle
from kongfu.local import ROOT, SERVICES, ServiceProcess, start_platform
from kongfu.namespaces import forget_after_run
from service_runtime.auth import issue_token
from service_runtime.eventlog import dead_letter_topic, topic_for
from service_runtime.kafka_log import KafkaEventLog
from service_runtime.settings import Settings

ANSWER_LOST = "2 answers lost after commit (proxy drops them)"
SECOND_WORKER = "second worker in the group, SIGKILLed under load"
API_REPLICA = "second API replica (round robin), SIGKILLed under load"
PROJECTIONS = ("timeline", "traceability", "compensation_decisions", "unmatched_parcels")
RETRY_FOR = 180.0  # how long the driver keeps retrying a step (a broker restart takes a while here)
# How long the driver waits for another service's reaction: longer than a broker restart may take
# on a busy machine (kafka.sh may take up to 300 s), so a late event is not taken for a lost one.
PATIENCE = 420.0


@dataclass
class Fault:
    kind: str
    target: str
    run: Callable[[], None]
    started: float = 0.0
    restored: float = 0.0
    next_success: float | None = None
    errors: Counter = field(default_factory=Counter)


class Chaos:
    def __init__(self, lifecycles: int, concurrency: int, full: bool, log: Callable[[str], None] = print) -> None:
        self.lifecycles, self.concurrency, self.full, self.log = lifecycles, concurrency, full, log
        self.settings = Settings(mode="stack")
        self.namespace = f"chaos{uuid.uuid4().hex[:8]}"
        self.jwt_secret, self.carrier_secret = uuid.uuid4().hex * 2, uuid.uuid4().hex * 2
        self.log_dir = Path(tempfile.mkdtemp(prefix="kongfu-chaos-"))
        self.env = {"KONGFU_MODE": "stack", "KONGFU_NAMESPACE": self.namespace, "KONGFU_JWT_SECRET": self.jwt_secret,
                    "KONGFU_CARRIER_WEBHOOK_SECRET": self.carrier_secret, "KONGFU_VAR_DIR": str(self.log_dir / "var"),
                    "KONGFU_LOG_LEVEL": "WARNING"}
        self.stripe = None  # the card path's provider: the Stripe fake, started with the platform
        self.answers: list[tuple[float, str, int]] = []  # (time, service, status) of every request
        self.lock = threading.Lock()
        self.processes: dict[str, ServiceProcess] = {}
        self.proxies: dict[str, FrontProxy] = {}  # the driver reaches every service through its proxy
        self.urls: dict[str, str] = {}
        self.local = threading.local()
        self.extras: list[ServiceProcess] = []  # second workers and API replicas of the schedule
        self.places = 0  # POST /orders the driver began: each must make exactly one order
        self.started = time.monotonic()

    # -- the driver ---------------------------------------------------------------------------
    def observe(self, service: str, status: int, _response: httpx.Response | None = None) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), service, status))

    def client(self) -> httpx.Client:
        """One keep-alive client per driver thread, like a browser's connection pool."""
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(timeout=30)
        return self.local.client

    def lifecycle(self, _: int = 0) -> dict[str, Any]:
        from services.logistics.carriers import FakeCarrier

        trip = Lifecycle(self.urls, lambda sub, role: issue_token(self.jwt_secret, sub, [role],
                                                                    issuer=self.settings.jwt_issuer),
                         FakeCarrier(self.carrier_secret).webhook, retry_for=RETRY_FOR, observe=self.observe,
                         patience=PATIENCE, client=self.client())
        with self.lock:
            self.places += 1
        result = trip.full_journey()
        trip.timeline_until(result["order_id"], "claim_decided")
        return result

    # -- faults -------------------------------------------------------------------------------
    def restart(self, service: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[service]
        process.kill(sig)
        process.spawn()
        process.wait_ready(timeout=180)

    def pause(self, service: str, seconds: float = 5.0) -> None:
        process = self.processes[service]
        process.proc.send_signal(signal.SIGSTOP)
        time.sleep(seconds)
        process.proc.send_signal(signal.SIGCONT)

    @staticmethod
    def stack_script(script: str, *actions: str, pause: float = 0.0) -> None:
        for number, action in enumerate(actions):
            if number:
                time.sleep(pause)
            # A busy machine can take longer than kafka.sh's default 90 s to start the broker.
            env = {**os.environ, "KONGFU_KAFKA_START_TIMEOUT": os.environ.get("KONGFU_KAFKA_START_TIMEOUT", "300")}
            subprocess.run([str(ROOT / "deploy/local" / script), action], env=env, check=True,
                           capture_output=True, timeout=420)

    def relay_crash(self, service: str) -> None:
        """A second relay for `service` that dies between publishing a batch and saving its position."""
        drill = ServiceProcess(["serve", service, "--mode", "stack", "--roles", "relay"],
                               {**self.env, "KONGFU_CHAOS_RELAY_EXIT_AFTER_PUBLISH": "true"},
                               self.log_dir / f"{service}-relay-drill.log")
        drill.spawn()
        try:
            code = drill.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            drill.kill()
            raise AssertionError(f"the {service} relay drill published nothing within 90 s")
        if code != 137:
            raise AssertionError(f"the {service} relay drill exited with {code}: {drill.log_tail()}")

    def replay(self, projection: str) -> None:
        self.kongfu("replay", projection)

    def kongfu(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "kongfu.cli", *args, "--mode", "stack"], cwd=ROOT,
                             env={**os.environ, **self.env}, capture_output=True, text=True, timeout=600)
        if out.returncode:
            raise AssertionError(f"kongfu {' '.join(args)} failed: {out.stderr[-2000:]}")
        return out.stdout

    def schedule(self) -> list[Fault]:
        """One fault of each kind; with `full`, every process is killed and two are paused."""
        kills = SERVICES if self.full else ("warehouse",)
        pauses = ("orders", "fraud") if self.full else ("purchasing",)
        faults = [Fault("SIGKILL + restart", s, lambda s=s: self.restart(s)) for s in kills]
        faults += [Fault("SIGSTOP 5 s + SIGCONT", s, lambda s=s: self.pause(s)) for s in pauses]
        faults += [
            Fault("Kafka broker stop + start", "kafka", lambda: self.stack_script("kafka.sh", "stop", "start", pause=5)),
            Fault("PostgreSQL restart", "postgres",
                  lambda: self.stack_script("postgres.sh", "stop", "start", pause=2)),
            Fault("relay killed between publish and position save", "orders", lambda: self.relay_crash("orders")),
            Fault("projection replay during load", "timeline", lambda: self.replay("timeline")),
        ]
        losses = ("orders", "payments", "purchasing", "warehouse", "logistics", "claims") if self.full else ("warehouse",)
        faults += [Fault(ANSWER_LOST, s, lambda s=s: lose_answers(self.proxies[s], 2)) for s in losses]
        under_load = 15.0 if self.full else 5.0
        for service in ("purchasing", "warehouse") if self.full else ("purchasing",):
            worker = self.extra(service, "worker")
            faults.append(Fault(SECOND_WORKER, service, lambda w=worker: second_worker_killed(w, under_load)))
        for service in ("orders", "warehouse") if self.full else ("warehouse",):
            replica = self.extra(service, "api")
            faults.append(Fault(API_REPLICA, service, lambda r=replica, s=service: api_replica_killed(
                r, self.proxies[s], under_load)))
        return faults

    def extra(self, service: str, roles: str) -> ServiceProcess:
        process = extra_process(service, roles, self.env, self.log_dir)
        self.extras.append(process)
        return process

    def run_faults(self, faults: list[Fault], done: threading.Event, gap: float) -> None:
        for fault in faults:
            time.sleep(gap)
            fault.started = time.monotonic()
            self.log(f"[{fault.started - self.started:6.1f} s] fault: {fault.kind} ({fault.target})")
            try:
                fault.run()
            except Exception as exc:  # noqa: BLE001 - reported in the verdict
                fault.errors["fault failed: " + str(exc)[:80]] += 1
            fault.restored = time.monotonic()
        done.set()

    # -- the verdict --------------------------------------------------------------------------
    async def read_topics(self) -> dict[str, list[Any]]:
        from contracts.envelope import Envelope

        log = KafkaEventLog(self.settings.kafka_bootstrap, self.settings.topic_partitions, "kongfu-chaos",
                            self.namespace)
        topics = [topic_for(s, self.namespace) for s in SERVICES]
        topics += [dead_letter_topic(t) for t in topics]
        try:
            ends = await log.end_offsets(topics)
            found: dict[str, list[Any]] = defaultdict(list)
            async for records in log.read_from_beginning(topics, ends):
                for record in records:
                    found[record.topic].append(record if record.topic.endswith(".dlq")
                                               else Envelope.model_validate_json(record.value))
            return found
        finally:
            await log.stop()

    def quiesce(self, timeout: float = 300) -> None:
        """Wait until two reads of every topic a few seconds apart are the same."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            sizes = {t: len(v) for t, v in asyncio.run(self.read_topics()).items()}
            if sizes == last:
                return
            last = sizes
            time.sleep(5)

    def verdict(self, baseline_order: str, results: list[dict], failures: list[str], faults: list[Fault]) -> list[str]:
        problems = list(failures)
        topics = asyncio.run(self.read_topics())
        for topic, records in topics.items():
            if topic.endswith(".dlq") and records:
                problems.append(f"{len(records)} dead letters in {topic}")
        per_order: dict[str, Counter] = defaultdict(Counter)
        copies = Counter()
        for topic, items in topics.items():
            if topic.endswith(".dlq"):
                continue
            seen = set()
            for envelope in items:
                copies[envelope.event_id] += 1
                if envelope.event_id in seen:
                    continue  # a re-published copy: consumers skip it
                seen.add(envelope.event_id)
                per_order[str(envelope.order_id)][envelope.type] += 1
        placed = sum(counts["orders.OrderPlaced"] for counts in per_order.values())
        if placed != self.places:
            problems.append(f"{placed} orders placed for {self.places} lifecycles begun (a retried POST /orders "
                            "made a second order, or one was lost)")
        for fault in faults:
            if fault.kind == API_REPLICA:
                wrong = [status for t, s, status in self.answers if s == fault.target and status >= 500
                         and status != 503 and fault.started <= t <= fault.restored + 1]
                if wrong:
                    problems.append(f"{fault.kind} ({fault.target}): the customer saw {Counter(wrong)}")
        expected = per_order[baseline_order]
        for result in results:
            got = per_order.get(result["order_id"], Counter())
            missing, extra = expected - got, got - expected
            if missing:
                problems.append(f"order {result['order_id']}: missing {dict(missing)}")
            if extra:
                problems.append(f"order {result['order_id']}: duplicated effects {dict(extra)}")
        for name in PROJECTIONS:
            live = re.search(r"checksum (\w+)", self.kongfu("checksum", name)).group(1)
            replayed = re.search(r"checksum (\w+)", self.kongfu("replay", name)).group(1)
            self.log(f"projection {name:24} live {live[:16]}  replay {replayed[:16]}  "
                     f"{'equal' if live == replayed else 'DIFFERENT'}")
            if live != replayed:
                problems.append(f"projection {name}: live checksum {live} != replay {replayed}")
        for fault in faults:
            problems += [f"{fault.kind} ({fault.target}): {e}" for e in fault.errors if e.startswith("fault failed")]
        self.log(f"events: {sum(len(v) for t, v in topics.items() if not t.endswith('.dlq'))} records, "
                 f"{len(copies)} distinct, {sum(1 for c in copies.values() if c > 1)} published more than once "
                 f"(re-publication, skipped by consumers)")
        return problems

    def fault_table(self, faults: list[Fault]) -> None:
        for fault in faults:
            service = fault.target if fault.target in SERVICES else None
            window = [a for a in self.answers if fault.started <= a[0] <= fault.restored + 1]
            fault.errors.update(("no connection" if status == 0 else str(status))
                                for _, _, status in window if status == 0 or status >= 500)
            after = [t for t, s, status in self.answers if t >= fault.restored and 0 < status < 500
                     and (service is None or s == service)]
            fault.next_success = min(after) - fault.restored if after else None
        self.log("\n| fault | target | at (s) | restored after (s) | next successful step after (s) | HTTP errors during it |")
        self.log("| --- | --- | --- | --- | --- | --- |")
        for f in faults:
            errors = ", ".join(f"{k}: {v}" for k, v in sorted(f.errors.items())) or "none"
            nxt = f"{f.next_success:.1f}" if f.next_success is not None else "n/a"
            self.log(f"| {f.kind} | {f.target} | {f.started - self.started:.1f} | {f.restored - f.started:.1f} "
                     f"| {nxt} | {errors} |")

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> int:
        self.log(f"chaos: namespace {self.namespace}, logs in {self.log_dir}")
        from services.payments.providers.fake_stripe import SHARED_TEST_CARDS_ENV, FakeStripe

        self.stripe = FakeStripe(uuid.uuid4().hex).start()
        self.env.update({"KONGFU_STRIPE_API_BASE": self.stripe.url,
                         "KONGFU_STRIPE_WEBHOOK_SECRET": self.stripe.webhook_secret, **SHARED_TEST_CARDS_ENV})
        direct, processes = start_platform(["--mode", "stack"], self.env, self.log_dir)
        self.stripe.webhook_url = f"{direct['payments']}/payments/webhooks/stripe"
        self.processes = dict(zip(SERVICES, processes))
        self.proxies = {s: FrontProxy(p.port).start() for s, p in self.processes.items()}
        self.urls = {s: proxy.url for s, proxy in self.proxies.items()}
        try:
            baseline = self.lifecycle()
            self.log(f"baseline lifecycle done: order {baseline['order_id']}")
            self.started = time.monotonic()
            faults, done = self.schedule(), threading.Event()
            gap = 1.0 if not self.full else 20.0
            scheduler = threading.Thread(target=self.run_faults, args=(faults, done, gap), daemon=True)
            scheduler.start()
            results, failures = [], []

            def one(index: int) -> None:
                try:
                    results.append(self.lifecycle(index))
                except Exception as exc:  # noqa: BLE001 - a lost lifecycle is a verdict, not a crash
                    failures.append(f"lifecycle {index} failed: {str(exc)[:300]}")

            numbers = itertools.count()

            def drive() -> None:  # at least N lifecycles, and load for as long as faults run
                while (index := next(numbers)) < self.lifecycles or not done.is_set():
                    one(index)

            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                list(pool.map(lambda _: drive(), range(self.concurrency)))
            driven = time.monotonic() - self.started
            scheduler.join()
            self.log(f"{len(results)} of {len(results) + len(failures)} lifecycles completed in {driven:.1f} s "
                     f"({self.concurrency} at a time); faults done at {time.monotonic() - self.started:.1f} s")
            self.quiesce()
            self.fault_table(faults)
            problems = self.verdict(baseline["order_id"], results, failures, faults)
        finally:
            for process in [*self.processes.values(), *self.extras]:
                process.stop()
            for proxy in self.proxies.values():
                proxy.stop()
            self.stripe.stop()
        for problem in problems:
            self.log(f"PROBLEM: {problem}")
        self.log("verdict: " + ("PASS" if not problems else f"FAIL ({len(problems)} problems)"))
        if problems:
            self.log(f"namespace {self.namespace} kept for a look; `kongfu forget {self.namespace}` removes it")
        else:
            self.log(forget_after_run(self.settings.model_copy(update={"namespace": self.namespace})))
        return 1 if problems else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kongfu chaos", description=__doc__)
    parser.add_argument("--lifecycles", type=int, default=60, help="at least this many (more while faults run)")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--short", action="store_true", help="one fault of each kind (the test suite's run)")
    args = parser.parse_args(argv)
    sys.exit(Chaos(args.lifecycles, args.concurrency, full=not args.short).run())


if __name__ == "__main__":
    main()

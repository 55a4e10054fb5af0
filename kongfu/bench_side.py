"""One side of `make bench-compare BASE=<revision> BENCH_ARGS=--side-by-side`.

Run by path, with the side's tree first on `PYTHONPATH`, so that the platform, the driver and the
Stripe fake are that revision's own; it uses only what revisions since the keep-alive driver
have (`kongfu.local.start_platform`, `kongfu.bench_driver.Driver`). It starts the platform in a
fresh namespace on the local stack, drives one warm-up lifecycle, says `ready`, waits for `go` on
its input, drives the lifecycles and prints one JSON line: the CPU its service processes spent
per lifecycle, from `/proc`. The two sides share PostgreSQL and Kafka, whose CPU cannot be told
apart between them, so only the services are measured. The orchestrator forgets both
namespaces afterwards.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path


def services_cpu_seconds(pids: list[int]) -> float:
    """utime + stime of each process (all its threads), in seconds. Read here rather than with
    `kongfu.cpu`, so that both sides are metered by the same code whatever the base has."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    lifecycles, concurrency, namespace = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    from kongfu.bench_driver import Driver
    from kongfu.local import start_platform
    from service_runtime.settings import Settings
    from services.payments.providers.fake_stripe import SHARED_TEST_CARDS_ENV, FakeStripe

    settings = Settings(mode="stack", namespace=namespace)
    jwt_secret, carrier_secret = uuid.uuid4().hex * 2, uuid.uuid4().hex
    log_dir = Path(tempfile.mkdtemp(prefix=f"kongfu-bench-side-{namespace}-"))
    stripe = FakeStripe(uuid.uuid4().hex).start()
    env = {"KONGFU_MODE": "stack", "KONGFU_NAMESPACE": namespace, "KONGFU_JWT_SECRET": jwt_secret,
           "KONGFU_CARRIER_WEBHOOK_SECRET": carrier_secret, "KONGFU_VAR_DIR": str(log_dir / "var"),
           "KONGFU_LOG_LEVEL": "WARNING", "KONGFU_STRIPE_API_BASE": stripe.url,
           "KONGFU_STRIPE_WEBHOOK_SECRET": stripe.webhook_secret, **SHARED_TEST_CARDS_ENV}
    urls, processes = start_platform(["--mode", "stack"], env, log_dir)
    stripe.webhook_url = f"{urls['payments']}/payments/webhooks/stripe"
    driver = Driver(urls, jwt_secret, carrier_secret, settings.jwt_issuer)
    pids = [process.proc.pid for process in processes]
    try:
        driver.one()
        time.sleep(3)  # the warm-up lifecycle's tail
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return
        before = services_cpu_seconds(pids)
        elapsed = driver.run(lifecycles, concurrency)
        spent = services_cpu_seconds(pids) - before
        print(json.dumps({"lifecycles": lifecycles, "seconds": elapsed,
                          "services_cpu_s_per_lifecycle": spent / lifecycles}), flush=True)
    finally:
        driver.close()
        for process in processes:
            process.stop()
        stripe.stop()


if __name__ == "__main__":
    main()

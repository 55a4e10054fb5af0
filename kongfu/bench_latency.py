"""The commit → timeline delay a bench run reports: the orders service's histogram read before
and after a phase, so each figure holds only that phase's events; and a phase that starts
lifecycles at a fixed rate (the latency target is set at half the peak rate, where a platform
runs with headroom, not at the saturation the concurrent phase drives it to)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import httpx

Buckets = list[tuple[float, float]]  # cumulative Prometheus buckets: (upper bound, count)


def quantile_from_histogram(buckets: Buckets, q: float) -> float:
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


def timeline_buckets(orders_url: str) -> Buckets:
    text = httpx.get(f"{orders_url}/metrics").text
    buckets = []
    for line in text.splitlines():
        if line.startswith('kongfu_projection_delay_seconds_bucket{') and 'projection="timeline"' in line:
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.rsplit(" ", 1)[1])))
    return sorted(buckets)


def delay_between(before: Buckets, after: Buckets) -> tuple[float, float, int]:
    """p50, p99 and the number of events projected between two readings of the histogram."""
    earlier = dict(before)
    phase = [(bound, count - earlier.get(bound, 0.0)) for bound, count in after]
    if not phase or phase[-1][1] <= 0:
        return 0.0, 0.0, 0
    return quantile_from_histogram(phase, 0.5), quantile_from_histogram(phase, 0.99), int(phase[-1][1])


def paced(one: Callable[[int], Any], lifecycles: int, per_second: float) -> float:
    """Start `lifecycles` at `per_second`, each on its own thread, whatever the others are doing;
    returns the seconds until the last one finished."""
    started = time.perf_counter()
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        try:
            one(n)
        except BaseException as exc:  # noqa: BLE001 - reported after the phase
            with lock:
                failures.append(exc)

    with ThreadPoolExecutor(max_workers=max(4, lifecycles)) as pool:
        for n in range(lifecycles):
            time.sleep(max(0.0, started + n / per_second - time.perf_counter()))
            pool.submit(run, n)
    if failures:
        raise failures[0]
    return time.perf_counter() - started

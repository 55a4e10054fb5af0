"""The bench's latency figures: a phase's quantiles come from its own events only, and the paced
phase starts lifecycles no faster than the rate it is given."""

from __future__ import annotations

import time

import pytest

from kongfu.bench_latency import delay_between, paced

INF = float("inf")


def test_a_phase_counts_only_the_events_projected_during_it():
    before = [(0.1, 100.0), (0.5, 100.0), (1.0, 100.0), (INF, 100.0)]  # a slow warm-up: all under 100 ms
    after = [(0.1, 100.0), (0.5, 150.0), (1.0, 200.0), (INF, 200.0)]
    p50, p99, samples = delay_between(before, after)
    assert samples == 100
    assert p50 == pytest.approx(0.5)  # half of the phase's events were above 100 ms
    assert 0.9 < p99 <= 1.0
    assert delay_between(after, after) == (0.0, 0.0, 0)


def test_the_paced_phase_keeps_to_its_rate_and_reports_a_failure():
    starts: list[float] = []
    began = time.perf_counter()
    paced(lambda n: starts.append(time.perf_counter() - began), 5, per_second=20.0)
    assert len(starts) == 5
    assert all(at >= n / 20.0 - 0.005 for n, at in enumerate(sorted(starts)))

    def failing(n: int) -> None:
        raise RuntimeError("lifecycle failed")

    with pytest.raises(RuntimeError):
        paced(failing, 2, per_second=50.0)

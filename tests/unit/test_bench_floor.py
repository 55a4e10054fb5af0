"""The floor of `make bench-floor`: a lifecycle's counts of operations times what each costs
empty, each taken from the process groups that do that operation's work."""

import pytest

from kongfu.bench_floor import floor

UNITS = {
    # the framework's own answer: only the service's CPU counts (the driver is the client)
    "request": {"driver (+ fakes)": 0.30, "orders": 0.20, "kafka": 0.02},
    # a read's round trip: the client (a service's, played by the driver) and its backend
    "database read": {"driver (+ fakes)": 0.10, "postgres: bench-driver": 0.02, "orders": 0.5},
    # publish and fetch: the clients (driver) and the broker
    "hop": {"driver (+ fakes)": 0.50, "kafka": 0.50, "postgres (shared)": 0.01},
}


def test_each_part_is_its_count_times_the_cost_of_the_groups_doing_that_work():
    figures = floor({"requests": 50, "transactions": 200, "events": 36, "platform_cpu_s": 0.3}, UNITS)
    assert figures["requests"] == pytest.approx(50 * 0.20 / 1000)
    assert figures["transactions"] == pytest.approx(200 * 0.12 / 1000)
    assert figures["hops"] == pytest.approx(36 * 1.00 / 1000)
    assert figures["floor"] == pytest.approx(0.010 + 0.024 + 0.036)


def test_the_floor_grows_with_the_counts_not_with_the_work_they_carry():
    few = floor({"requests": 10, "transactions": 50, "events": 10, "platform_cpu_s": 0.3}, UNITS)["floor"]
    many = floor({"requests": 10, "transactions": 50, "events": 10, "platform_cpu_s": 3.0}, UNITS)["floor"]
    assert few == many
    assert floor({"requests": 20, "transactions": 50, "events": 10, "platform_cpu_s": 0.3}, UNITS)["floor"] > few


def test_the_share_is_the_floor_against_what_the_platform_spent():
    from kongfu.bench_floor import share

    assert share({"floor": 0.065}, {"platform_cpu_s": 0.26}) == pytest.approx(25.0)

"""The bench's CPU accounting: /proc parsing and who a process's CPU is attributed to."""

from __future__ import annotations

import os

from kongfu.cpu import (CLOCK_TICKS, DRIVER, POSTGRES_SHARED, attribute_postgres, difference, is_platform,
                        parse_stat, read_stat)
from kongfu.local import app_name
from kongfu.synthetic import remap, template_lifecycle
from service_runtime.eventlog import LogRecord


def test_a_stat_line_gives_parent_own_and_reaped_children_cpu_even_with_odd_command_names():
    line = ("4242 (py (worker) x) S 17 4242 4242 0 -1 4194304 100 0 0 0 "
            f"{3 * CLOCK_TICKS} {CLOCK_TICKS} {2 * CLOCK_TICKS} {CLOCK_TICKS} 20 0 7 0 123 0 0")
    stat = parse_stat(line)
    assert stat.ppid == 17
    assert stat.own == 4.0
    assert stat.reaped_children == 3.0


def test_this_process_is_readable_and_spends_cpu():
    before = read_stat(os.getpid())
    sum(i * i for i in range(300_000))
    assert read_stat(os.getpid()).own >= before.own
    assert read_stat(2**22 + 1) is None  # above pid_max: no such process


def test_backends_are_attributed_by_application_name_and_the_rest_is_shared():
    groups = attribute_postgres([(10, "kongfu-orders-api,relay"), (11, "kongfu-bench-driver"), (12, ""),
                                 (13, None), (14, "psql")], postmaster=1)
    assert groups == {10: "postgres: orders-api,relay", 11: "postgres: bench-driver", 12: POSTGRES_SHARED,
                      13: POSTGRES_SHARED, 14: POSTGRES_SHARED, 1: POSTGRES_SHARED}
    assert not is_platform("postgres: bench-driver") and not is_platform(DRIVER)
    assert is_platform("postgres: orders-all") and is_platform("kafka") and is_platform(POSTGRES_SHARED)


def test_service_processes_name_their_sessions_by_service_and_roles():
    assert app_name("orders", ["--mode", "stack"]) == "kongfu-orders-all"
    assert app_name("fraud", ["--mode", "stack", "--roles", "worker"]) == "kongfu-fraud-worker"


def test_the_difference_counts_new_processes_whole_and_moves_exited_backends_to_the_postmaster():
    before = {1: (POSTGRES_SHARED, 5.0), 10: ("postgres: orders-all", 2.0), 20: ("orders [all roles]", 7.0)}
    # backend 10 exited with 3.5 s in all: the postmaster's reaped-children CPU grew by that much
    after = {1: (POSTGRES_SHARED, 5.2 + 3.5), 11: ("postgres: orders-all", 0.4), 20: ("orders [all roles]", 9.0)}
    spent = difference(before, after)
    assert spent["orders [all roles]"] == 2.0
    assert spent["postgres: orders-all"] == 0.4
    assert round(spent[POSTGRES_SHARED], 6) == round(0.2 + 3.5 - 2.0, 6)


def test_synthetic_copies_get_their_own_ids_and_keep_the_rest():
    order = "0b6c6a4e-1f0e-4c55-9d7e-2d0f1c3b4a5e"
    value = f'{{"order_id":"{order}","type":"orders.OrderPlaced","total":"12.00"}}'.encode()
    first, second = remap(value, 0), remap(value, 1)
    assert order.encode() not in first and first != second
    assert first.replace(first[13:49], b"") == value.replace(order.encode(), b"")
    assert remap(value, 0) == first  # stable: every record of one copy maps an id the same way
    records = [LogRecord("t", 0, n, key, b"{}") for n, key in enumerate([b"a", b"b", b"b", None])]
    assert [r.offset for r in template_lifecycle(records)] == [1, 2]

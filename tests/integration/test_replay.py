"""`kongfu replay` on Kafka + PostgreSQL: a projection as it was at a time (`--until`), and a
rebuild under live load that readers never see half-built."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

import httpx
import pytest

from tests.e2e.journeys import place_order
from tests.support import ROOT, auth

pytestmark = pytest.mark.stack


def projection_state(orders_url: str) -> tuple[str, int]:
    response = httpx.get(f"{orders_url}/admin/projections/timeline/checksum", headers=auth("audit-1", "auditor"),
                         timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["checksum"], response.json()["rows"]


QUIET_SAMPLES = 4  # 2 s without a change: a broker busy deleting topics can hold a fetch back 0.5 s


def settled(orders_url: str) -> tuple[str, int]:
    """The timeline once it stops changing. `--until` keeps what occurred before a time, so an
    event that occurred before it but reached the timeline after this sample would tell them apart."""
    previous, quiet = projection_state(orders_url), 0
    for _ in range(120):
        time.sleep(0.5)
        current = projection_state(orders_url)
        quiet = quiet + 1 if current == previous else 0
        if quiet == QUIET_SAMPLES:
            return current
        previous = current
    raise AssertionError("the timeline kept changing")


def replay(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "kongfu.cli", "replay", "timeline", *args],
                         env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    return out.stdout


def checksum_in(output: str) -> tuple[str, int]:
    found = re.search(r"(\d+) rows, checksum ([0-9a-f]{64})", output)
    return found.group(2), int(found.group(1))


def test_replay_until_reproduces_the_timeline_as_it_was_then(slice_on_stack):
    orders = slice_on_stack["orders"]
    first = place_order(orders, f"cust-{uuid.uuid4().hex[:8]}")
    then = settled(orders)
    until = datetime.now(timezone.utc)
    time.sleep(0.05)
    second = place_order(orders, f"cust-{uuid.uuid4().hex[:8]}")
    now = settled(orders)
    assert now != then and now[1] > then[1]

    output = replay(slice_on_stack["env"], "--until", until.isoformat(), "--key", first["order_id"],
                    "--key", second["order_id"])
    assert checksum_in(output) == then
    assert first["order_id"] in output and "order_placed" in output.split("\n")[1]
    assert "order_placed" not in output.split("\n")[2]  # the second order did not exist yet
    assert projection_state(orders) == now  # the live projection is untouched by an audit replay
    assert checksum_in(replay(slice_on_stack["env"])) == now  # a full replay gives today's


def test_a_replay_under_live_load_is_never_seen_partially(slice_on_stack):
    orders = slice_on_stack["orders"]
    for _ in range(15):
        place_order(orders, f"cust-{uuid.uuid4().hex[:8]}")
    _, rows_before = settled(orders)
    stop = threading.Event()
    seen: list[int] = []
    placed: list[str] = []

    def keep_placing() -> None:  # live load: the projector keeps writing during the replay
        while not stop.is_set():
            placed.append(place_order(orders, f"cust-{uuid.uuid4().hex[:8]}")["order_id"])

    def keep_reading() -> None:
        while not stop.is_set():
            seen.append(projection_state(orders)[1])
            time.sleep(0.01)

    threads = [threading.Thread(target=keep_placing), threading.Thread(target=keep_reading)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        # Straight to the held path: the last catch-up runs while the live projector's writes wait,
        # as it does when load keeps the projector ahead of every optimistic catch-up.
        replay({**slice_on_stack["env"], "KONGFU_REPLAY_OPTIMISTIC_CATCH_UPS": "0"})
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert placed and len(seen) > 20
    # Rows only ever grow; a half-built projection would show fewer than before the replay.
    assert min(seen) >= rows_before
    assert all(later >= earlier for earlier, later in zip(seen, seen[1:])), seen
    live = settled(orders)
    far_future = datetime(2100, 1, 1, tzinfo=timezone.utc).isoformat()
    assert checksum_in(replay(slice_on_stack["env"], "--until", far_future)) == live  # nothing lost in the swap

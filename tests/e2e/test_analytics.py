"""`kongfu analytics export` on a lifecycle's events (Kafka + PostgreSQL): the README's example
queries answer from the Parquet tables, and a second export adds only what is new."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timezone

import duckdb
import pytest

from kongfu.demo import Lifecycle
from kongfu.local import wait_until
from services.logistics.carriers import FakeCarrier
from tests.support import CARRIER_SECRET, ROOT, token

pytestmark = pytest.mark.stack
MUG = {"product_url": "https://detail.1688.com/offer/623456789012.html", "sku": "mug", "quantity": 2,
       "unit_price": "12.00"}


def readme_queries(out) -> dict[str, str]:
    """The SQL blocks of the README's Analytics section, pointed at `out`."""
    section = (ROOT / "README.md").read_text().split("## Analytics", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    return {block.splitlines()[0].lstrip("- ").strip(): block.replace("var/analytics", str(out)) for block in blocks}


def sql(query: str) -> list[tuple]:
    with duckdb.connect() as connection:
        return connection.execute(query).fetchall()


def export(platform: dict, out) -> str:
    result = subprocess.run([sys.executable, "-m", "kongfu.cli", "analytics", "export", "--out", str(out)],
                            env={**os.environ, **platform["env"]}, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_exported_lifecycle_answers_the_example_queries(platform_on_stack, tmp_path):
    trip = Lifecycle(platform_on_stack, lambda s, r: token(s, r), FakeCarrier(CARRIER_SECRET).webhook)
    journey = trip.full_journey()  # a taobao vase and jd shirts, both pass inspection
    failed = trip.place_and_pay([MUG])  # 1688 mugs, one short at inspection
    (task,) = trip.tasks(failed["order_id"], 1)
    code = trip.receive(failed["order_id"], trip.purchase_and_ship(task, "general", "24.00"), 1)
    trip.inspect_and_store(code, 2, high_risk=False, passed=False)
    trip.wait_order(failed["order_id"], lambda o: o["pending_decisions"], "the customer to be asked")
    out = tmp_path / "analytics"

    def exported_inspections() -> bool:
        export(platform_on_stack, out)
        return sql(f"SELECT count(*) FROM read_parquet('{out}/warehouse.ItemInspected/*.parquet')") == [(3,)]

    wait_until(exported_inspections, timeout=30, what="three inspections in the export")
    queries = readme_queries(out)
    assert set(queries) == {"orders per day and marketplace", "QC failure rate by merchant"}

    today = datetime.now(timezone.utc).date()
    per_day = sql(queries["orders per day and marketplace"])
    assert per_day == [(today, "1688", 1), (today, "jd", 1), (today, "taobao", 1)]

    (merchant,) = sql(queries["QC failure rate by merchant"])
    assert merchant == ("Hangzhou Good Goods Store", 3, 1, 0.333)

    # Incremental: a second run adds nothing already exported; a new order adds exactly its events.
    again = export(platform_on_stack, out)
    assert "exported 0 events" in again
    trip.place_and_pay([MUG])
    wait_until(lambda: "orders.OrderPlaced: 1 new events" in export(platform_on_stack, out), timeout=30,
               what="the new order in the export")
    ((rows, distinct),) = sql(f"SELECT count(*), count(DISTINCT event_id) FROM read_parquet('{out}/*/*.parquet')")
    assert rows == distinct  # every event once
    assert journey["order_id"] in {r[0] for r in sql(
        f"SELECT order_id FROM read_parquet('{out}/orders.OrderPlaced/*.parquet')")}

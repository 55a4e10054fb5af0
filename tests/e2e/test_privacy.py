"""GDPR on the real broker and database and on the embedded default: a customer's data export
after a full lifecycle, then erasure by crypto-shredding; the log, the topics and the stores never
hold a readable personal field, projections show it erased, replays still work, and another
customer's data is untouched."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kongfu.demo import Lifecycle
from kongfu.local import wait_until
from kongfu.registry import SERVICES
from service_runtime.eventlog import topic_for
from service_runtime.pii import ERASED, PersonalData, PostgresKeyStore, SQLiteKeyStore
from services.logistics.carriers import FakeCarrier
from tests.e2e.test_lifecycle import settled_checksum
from tests.support import CARRIER_SECRET, ROOT, envelopes, token, topic_envelopes


@pytest.fixture(params=["platform_on_stack", "embedded"])
def platform(request):
    return request.getfixturevalue(request.param)


def personal(tag: str) -> dict[str, str]:
    return {"name": f"Zed Quux{tag}", "address": f"{tag} Lamb Street, London", "phone": "+44 20 7946 0958",
            "email": f"zed.{tag}@example.org", "comments": f"leave it with neighbour {tag}"}


def journey(platform: dict) -> Lifecycle:
    return Lifecycle(platform, lambda s, r: token(s, r), FakeCarrier(CARRIER_SECRET).webhook)


def every_stored_byte(platform: dict) -> bytes:
    """The stores and the topics, as bytes: SQLite files (embedded) or every table of this
    namespace's schemas and every topic (stack)."""
    if platform["mode"] == "embedded":
        var = Path(platform["env"]["KONGFU_VAR_DIR"])
        return b"".join(path.read_bytes() for path in var.rglob("*") if path.is_file())
    import psycopg

    namespace, chunks = platform["namespace"], []
    with psycopg.connect(platform["env"]["KONGFU_PG_DSN"]) as conn:
        tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                              "WHERE table_schema LIKE %s", (f"{namespace}\\_%",)).fetchall()
        assert tables
        for schema, table in tables:
            for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"'):  # noqa: S608 - names from the catalog
                chunks += [bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row]
    kafka = platform["env"]["KONGFU_KAFKA_BOOTSTRAP"]
    for service in SERVICES:
        chunks += [e.model_dump_json().encode() for e in envelopes(kafka, topic_for(service, namespace))]
    return b"\n".join(chunks)


def key_store(platform: dict) -> PersonalData:
    env = platform["env"]
    if platform["mode"] == "embedded":
        return PersonalData(SQLiteKeyStore(Path(env["KONGFU_VAR_DIR"]) / "orders.sqlite"))
    return PersonalData(PostgresKeyStore(env["KONGFU_PG_DSN"], f"{platform['namespace']}_orders"))


def test_export_then_erasure_by_crypto_shredding(platform):
    trip, other = journey(platform), journey(platform)
    mine, theirs = personal(uuid.uuid4().hex[:8]), personal(uuid.uuid4().hex[:8])
    assert trip.as_customer("orders", "PUT", "/me/profile", json=mine).json()["name"] == mine["name"]
    other.as_customer("orders", "PUT", "/me/profile", json=theirs)
    result = trip.full_journey()
    trip.timeline_until(result["order_id"], "claim_decided")

    def exported(condition):
        def probe():
            document = trip.as_customer("orders", "GET", "/me/data-export").json()
            return document if condition(document) else None
        return probe

    complete = exported(lambda d: d["orders"] and any(
        e["stage"] == "claim_decided" for t in d["timelines"] for e in t["entries"]))
    export = wait_until(complete, what="the export to hold the whole lifecycle")
    assert {k: export["profile"][k] for k in mine} == mine and export["profile"]["erased"] is False
    (order,) = export["orders"]
    assert order["order_id"] == result["order_id"] and len(order["lines"]) == 2 and order["payments"]
    (timeline,) = export["timelines"]
    stages = {e["stage"]: e["details"] for e in timeline["entries"]}
    assert {"purchased", "quality_inspection", "packed", "shipped", "delivered", "claim_opened",
            "claim_decided"} <= set(stages)
    # The inspection names its photos by content hash only; the customer sees them until erasure.
    inspected = stages["quality_inspection"]
    photo_urls = [f"/warehouse/items/{inspected['traceability_code']}/photos/{ref.removeprefix('sha256:')}"
                  for ref in inspected["photos"]]
    assert photo_urls and all(re.fullmatch(r"sha256:[0-9a-f]{64}", ref) for ref in inspected["photos"])
    assert all(trip.as_customer("warehouse", "GET", url).headers["content-type"] == "image/png" for url in photo_urls)
    assert stages["shipped"]["tracking_number"] == result["tracking"]  # the parcel on its way
    assert stages["claim_decided"]["amount"] == result["claim"]["amount"]

    # The quote shows each line's record from the log, and recommends one.
    line = stages["shipping_paid"]["line_code"]

    def line_record():
        quote = trip.as_customer("logistics", "GET", f"/logistics/parcels/{result['parcel_id']}/quotes").json()
        record = next(l["reliability"] for l in quote["lines"] if l["code"] == line)
        return record["delivered"] >= 1 and quote

    quote = wait_until(line_record, what="the line's record to count the delivery")
    assert quote["recommended_line"] in {l["code"] for l in quote["lines"] if not l["refused"]}
    assert [l["code"] for l in quote["lines"] if l["recommended"]] == [quote["recommended_line"]]

    stored = every_stored_byte(platform)
    for value in (*mine.values(), *theirs.values()):
        assert value.encode() not in stored, f"{value!r} readable in a store or on a topic"
    assert b"pii:v1:" in stored  # ... where it is sealed instead

    answer = trip.as_customer("orders", "POST", "/me/erasure").json()
    assert answer["erased"] is True and answer["kept"]
    profile = trip.as_customer("orders", "GET", "/me/profile").json()
    assert profile["erased"] and {profile[k] for k in mine} == {ERASED}
    after = wait_until(exported(lambda d: d["erased_at"]), what="the erasure to reach the projection")
    assert {after["profile"][k] for k in mine} == {ERASED}
    assert after["orders"][0]["quote"]["total"] == order["quote"]["total"]  # financial records stay
    assert after["orders"][0]["placed_at"] == order["placed_at"]
    # The warehouse hears of the erasure and deletes the customer's inspection photos from its store.
    wait_until(lambda: all(trip.call("warehouse", "GET", url, "warehouse_staff", expect=(200, 404)).status_code == 404
                           for url in photo_urls), what="the erasure to delete the inspection photos")

    # The sealed fields are still in the log, and nobody can open them any more; the other customer's can.
    keys = key_store(platform)
    sealed = [e.payload for e in _profile_events(platform) if e.payload["customer_id"] == trip.customer]
    assert sealed and all(keys.decrypt(trip.customer, p["name"]) == ERASED for p in sealed)
    (bobs,) = [e.payload for e in _profile_events(platform) if e.payload["customer_id"] == other.customer]
    assert keys.decrypt(other.customer, bobs["email"]) == theirs["email"]
    assert other.as_customer("orders", "GET", "/me/profile").json()["name"] == theirs["name"]

    # A full replay works and still shows nothing personal.
    for name in ("customer_data", "timeline"):
        live = settled_checksum(platform, name)
        out = subprocess.run([sys.executable, "-m", "kongfu.cli", "replay", name],
                             env={**os.environ, **platform["env"]}, cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        assert re.search(r"checksum ([0-9a-f]{64})", out.stdout).group(1) == live
    replayed = trip.as_customer("orders", "GET", "/me/data-export").json()
    assert {replayed["profile"][k] for k in mine} == {ERASED} and replayed["orders"][0]["order_id"] == result["order_id"]


def _profile_events(platform: dict):
    return [e for e in topic_envelopes(platform, "orders") if e.type == "orders.CustomerProfileUpdated"]

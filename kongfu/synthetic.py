"""Many valid lifecycles in the event log quickly, for replay measurements (`make bench`).

`append_lifecycles` copies one complete lifecycle already published in the namespace (the order
with the most events; the bench drives real ones first) N times: every UUID in the events (order,
aggregate, event, parcel, claim ids) is mapped to a new one per copy, so each copy is an order of
its own with the same contracts, order and keys; everything else stays as the platform wrote it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import defaultdict

from service_runtime.eventlog import LogRecord, OutgoingRecord, topic_for
from service_runtime.kafka_log import KafkaEventLog
from service_runtime.settings import Settings

UUID_TEXT = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SOURCE_SERVICES = ("orders", "purchasing", "warehouse", "logistics", "claims", "fraud", "payments")
BATCH = 2_000


def remap(value: bytes, copy: int) -> bytes:
    """The same bytes with every UUID replaced by the copy's own (stable per copy and UUID)."""
    return UUID_TEXT.sub(lambda m: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{copy}/{m.group().decode()}")).encode(),
                         value)


def copies(template: list[LogRecord], copy: int) -> list[OutgoingRecord]:
    return [OutgoingRecord(r.topic, remap(r.key or b"", copy) or None, remap(r.value, copy),
                           tuple((k, remap(v, copy)) for k, v in r.headers)) for r in template]


def template_lifecycle(records: list[LogRecord]) -> list[LogRecord]:
    """The records (in log order per topic) of the order with the most events."""
    by_order: dict[bytes, list[LogRecord]] = defaultdict(list)
    for record in records:
        if not record.topic.endswith(".dlq") and record.key:
            by_order[record.key].append(record)
    if not by_order:
        raise ValueError("no published lifecycle to copy: drive at least one first")
    return max(by_order.values(), key=len)


async def _append(settings: Settings, n: int) -> int:
    log = KafkaEventLog(settings.kafka_bootstrap, settings.topic_partitions, "kongfu-synthetic", settings.namespace,
                        security=settings.kafka_security())
    topics = [topic_for(s, settings.namespace) for s in SOURCE_SERVICES]
    try:
        records: list[LogRecord] = []
        async for batch in log.read_from_beginning(topics, await log.end_offsets(topics)):
            records += batch
        template = template_lifecycle(records)
        pending: list[OutgoingRecord] = []
        for copy in range(n):
            pending += copies(template, copy)
            if len(pending) >= BATCH:
                await log.publish(pending)
                pending = []
        if pending:
            await log.publish(pending)
        return n * len(template)
    finally:
        await log.stop()


def append_lifecycles(settings: Settings, n: int) -> int:
    """Append n copies of a published lifecycle to the namespace's topics; returns the events appended."""
    return asyncio.run(_append(settings, n))

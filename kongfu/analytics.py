"""`kongfu analytics export`: the topics as Parquet tables, one per event type, for DuckDB.

The first consumer of the topics outside the services: it reads every `kongfu.<service>.events`
topic from where its last run stopped (offset 0 the first time) to the current end, and writes the
new events as Parquet files under `<out>/<event type>/`. Its position is a small JSON file beside
the tables, written after them; a run that dies between the two writes the same file names again
(they are named by the position they start from) and event ids already exported are skipped, so
each event is in the tables once. Messages that fail their contract are left to the dead-letter
topics and counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import defaultdict
from datetime import timezone
from pathlib import Path
from typing import Any

from service_runtime.consumer import Rejected, decode, tracking_name
from service_runtime.eventlog import EventLog, LogRecord, topic_for

POSITIONS = "_positions.json"
COLUMNS = ("event_id VARCHAR, type VARCHAR, schema_version INTEGER, occurred_at TIMESTAMP, producer VARCHAR, "
           "aggregate_id VARCHAR, aggregate_version INTEGER, order_id VARCHAR, correlation_id VARCHAR, "
           "causation_id VARCHAR, actor VARCHAR, topic VARCHAR, partition INTEGER, \"offset\" BIGINT, "
           "payload JSON")


def _positions(out: Path) -> dict[str, int]:
    path = out / POSITIONS
    return json.loads(path.read_text()) if path.exists() else {}


def _row(record: LogRecord) -> tuple[str, tuple[Any, ...]] | None:
    try:
        envelope, payload = decode(record)
    except Rejected:
        return None
    occurred = envelope.occurred_at.astimezone(timezone.utc).replace(tzinfo=None)  # stored as UTC
    return envelope.type, (
        str(envelope.event_id), envelope.type, envelope.schema_version, occurred, envelope.producer,
        str(envelope.aggregate_id), envelope.aggregate_version, envelope.order_id and str(envelope.order_id),
        envelope.correlation_id, envelope.causation_id, envelope.actor, record.topic, record.partition,
        record.offset, json.dumps(payload.model_dump(mode="json"), sort_keys=True, ensure_ascii=False))


def _exported_ids(connection, out: Path) -> set[str]:
    if not any(out.glob("*/*.parquet")):
        return set()
    pattern = str(out / "*" / "*.parquet")
    return {row[0] for row in connection.execute(f"SELECT event_id FROM read_parquet('{pattern}')").fetchall()}


def _write(out: Path, rows_by_type: dict[str, list[tuple]], part: str) -> dict[str, int]:
    import duckdb

    connection = duckdb.connect()
    try:
        seen = _exported_ids(connection, out)
        written = {}
        for event_type, rows in sorted(rows_by_type.items()):
            fresh = [r for r in rows if r[0] not in seen]
            if not fresh:
                continue
            connection.execute(f"CREATE OR REPLACE TEMP TABLE batch ({COLUMNS})")
            connection.executemany(f"INSERT INTO batch VALUES ({', '.join('?' * 15)})", fresh)
            folder = out / event_type
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"part-{part}.parquet"
            connection.execute(f"COPY (SELECT * FROM batch ORDER BY occurred_at, event_id) TO '{target}' "
                               "(FORMAT parquet)")
            written[event_type] = len(fresh)
        return written
    finally:
        connection.close()


async def export(event_log: EventLog, services: list[str], out: Path, namespace: str = "") -> dict[str, Any]:
    """Export what is new since the last run; returns counts per event type and the refused."""
    out.mkdir(parents=True, exist_ok=True)
    topics = [topic_for(s, namespace) for s in services]
    positions = _positions(out)
    starts = {}  # `topic:partition` → the next offset to read
    for source, offset in positions.items():
        topic, partition = source.rsplit(":", 1)
        if topic in topics:
            starts[(topic, int(partition))] = offset
    ends = await event_log.end_offsets(topics)
    rows_by_type: dict[str, list[tuple]] = defaultdict(list)
    refused = 0
    async for records in event_log.read_from_beginning(topics, ends, starts):
        for record in records:
            row = _row(record)
            if row is None:
                refused += 1
            else:
                rows_by_type[row[0]].append(row[1])
    # Named by where this run started: a rerun after a crash overwrites its own half-done files.
    part = hashlib.sha256(json.dumps(sorted(positions.items())).encode()).hexdigest()[:16]
    written = await asyncio.to_thread(_write, out, rows_by_type, part)
    new_positions = {**positions, **{tracking_name(t, p): end for (t, p), end in ends.items()}}
    temporary = out / f"{POSITIONS}.tmp"
    temporary.write_text(json.dumps(new_positions, sort_keys=True, indent=1))
    os.replace(temporary, out / POSITIONS)
    return {"written": written, "refused": refused}

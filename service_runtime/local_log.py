"""The event log of the embedded default: one SQLite file, one partition per topic."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Sequence

from service_runtime.eventlog import LogRecord, OutgoingRecord, StartPosition
from service_runtime.wakeup import Signal, Waiter

# Appends of another process on the same file wake nothing here: a consumer at rest looks again
# this often.
OTHER_PROCESSES_SEEN_WITHIN = 1.0


class LocalEventLog:
    """A durable single-partition log in one SQLite file, for the embedded default."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.appended = Signal()  # wakes this process's consumers instead of their polling

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS records (topic TEXT, partition INTEGER, offset INTEGER, "
                "key BLOB, value BLOB, headers TEXT, PRIMARY KEY (topic, partition, offset))"
            )
            self._conn = conn
        return self._conn

    async def start(self) -> None:
        self._connection()

    async def stop(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _append(self, records: Sequence[OutgoingRecord]) -> None:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for r in records:
                    row = conn.execute(
                        "SELECT COALESCE(MAX(offset), -1) + 1 FROM records WHERE topic=? AND partition=0",
                        (r.topic,),
                    ).fetchone()
                    headers = json.dumps([[k, v.decode("utf-8", "replace")] for k, v in r.headers])
                    conn.execute(
                        "INSERT INTO records VALUES (?, 0, ?, ?, ?, ?)", (r.topic, row[0], r.key, r.value, headers)
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        self.appended.notify()

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        if records:
            await asyncio.to_thread(self._append, records)

    def read(self, topics: Sequence[str], after: dict[str, int], limit: int) -> list[LogRecord]:
        with self._lock:
            conn = self._connection()
            out: list[LogRecord] = []
            for topic in topics:
                rows = conn.execute(
                    "SELECT offset, key, value, headers FROM records WHERE topic=? AND partition=0 AND offset>? "
                    "ORDER BY offset LIMIT ?",
                    (topic, after.get(topic, -1), limit),
                ).fetchall()
                for offset, key, value, headers in rows:
                    decoded = tuple((k, v.encode()) for k, v in json.loads(headers))
                    out.append(LogRecord(topic, 0, offset, key, value, decoded))
            return out

    def end_offsets_inclusive(self, topics: Sequence[str]) -> dict[str, int]:
        with self._lock:
            conn = self._connection()
            return {
                t: conn.execute(
                    "SELECT COALESCE(MAX(offset), -1) FROM records WHERE topic=? AND partition=0", (t,)
                ).fetchone()[0]
                for t in topics
            }

    def consumer(self, group: str, topics: Sequence[str], start_position: StartPosition) -> "LocalLogConsumer":
        return LocalLogConsumer(self, topics, start_position)

    async def end_offsets(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        ends = await asyncio.to_thread(self.end_offsets_inclusive, topics)
        return {(t, 0): last + 1 for t, last in ends.items()}

    async def read_from_beginning(self, topics: Sequence[str], ends: dict[tuple[str, int], int],
                                  starts: dict[tuple[str, int], int] | None = None
                                  ) -> AsyncIterator[list[LogRecord]]:
        after = {t: (starts or {}).get((t, 0), 0) - 1 for t in topics}
        topics = [t for t in topics if ends.get((t, 0), 0) > after[t] + 1]
        while topics:
            batch = [r for r in await asyncio.to_thread(self.read, topics, after, 1000)
                     if r.offset < ends.get((r.topic, 0), 0)]
            if not batch:
                return
            for r in batch:
                after[r.topic] = max(after[r.topic], r.offset)
            yield batch


@dataclass
class LocalLogConsumer:
    log: LocalEventLog
    topics: Sequence[str]
    start_position: StartPosition
    positions: dict[str, int] = field(default_factory=dict)
    appended: Waiter | None = None

    async def start(self) -> None:
        for topic in self.topics:
            done = await self.start_position(topic, 0)
            self.positions[topic] = -1 if done is None else done

    async def stop(self) -> None:
        if self.appended is not None:
            self.appended.close()
            self.appended = None

    async def fetch(self, timeout: float) -> list[LogRecord]:
        if self.appended is None:
            self.appended = self.log.appended.waiter()
        self.appended.clear()  # before reading: an append during the read ends the wait at once
        records = await asyncio.to_thread(self.log.read, self.topics, self.positions, 200)
        if not records:
            # Woken by an append of this process; another process's appends (a second embedded
            # process on the same file) are seen within OTHER_PROCESSES_SEEN_WITHIN.
            await self.appended.wait(None, min(timeout, OTHER_PROCESSES_SEEN_WITHIN))
            return []
        for r in records:
            self.positions[r.topic] = max(self.positions[r.topic], r.offset)
        return records

    async def mark_processed(self, records: Sequence[LogRecord]) -> None:
        return None

    def lag(self) -> dict[tuple[str, int], int]:
        ends = self.log.end_offsets_inclusive(self.topics)
        return {(t, 0): max(0, ends[t] - self.positions.get(t, -1)) for t in self.topics}

"""Projections: read models rebuilt from the topics, never written by commands.

A projection turns each event into entries under keys (a timeline entry under an order id, a
traceability fact under a code). Rows are those entries, unique per (key, event id), so applying
an event twice, or applying events in another interleaving of topics, leaves the same rows: a
live projection and one rebuilt from offset 0 have the same checksum. The view a reader gets is a
pure function of a key's entries in (time, event id) order. Entries and positions are written in
one transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from contracts import Envelope, EventPayload
from service_runtime import database
from service_runtime.canonical_json import canonical
from service_runtime.settings import Settings

LIVE, REBUILD = "projection", "projection_rebuild"  # table name stems


@dataclass(frozen=True)
class Entry:
    key: str
    at: str  # ISO time the fact happened; with the event id, the entry's place in its key's list
    event_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Projection:
    name: str
    sources: Sequence[str]  # services whose topics it reads
    # Event → entries. Pure: only the envelope and payload, never the clock or a random source.
    entries: Callable[[Envelope, EventPayload], Iterable[Entry]]
    # A key's entries (in order) → the document readers get. Pure.
    view: Callable[[str, list[dict[str, Any]]], dict[str, Any]]


# --------------------------------------------------------------------------- storage


class ProjectionStore:
    """Entries and positions of projections, in the owning service's database."""

    def __init__(self, settings: Settings, schema: str, sqlite_name: str) -> None:
        self.settings = settings
        self.schema = schema
        self.sqlite_path = settings.var_dir / f"{sqlite_name}.projections.sqlite"
        self._lock = threading.Lock()
        self._sqlite: sqlite3.Connection | None = None
        self._pool = None
        self._setup()

    @property
    def is_postgres(self) -> bool:
        return self.settings.mode == "stack"

    def _setup(self) -> None:
        # LIVE tables serve readers; a replay builds into the REBUILD tables and swaps them in.
        statements = [
            "CREATE TABLE IF NOT EXISTS {s}{t}_entries (projection TEXT NOT NULL, key TEXT NOT NULL, "
            "at TEXT NOT NULL, event_id TEXT NOT NULL, data TEXT NOT NULL, "
            "PRIMARY KEY (projection, key, event_id))",
            "CREATE TABLE IF NOT EXISTS {s}{t}_positions (projection TEXT NOT NULL, source TEXT NOT NULL, "
            "position BIGINT NOT NULL, PRIMARY KEY (projection, source))",
        ]
        with self._transaction() as cur:
            for tables in (LIVE, REBUILD):
                for statement in statements:
                    cur.execute(statement.format(s=self._prefix, t=tables))

    @property
    def _prefix(self) -> str:
        return f'"{self.schema}".' if self.is_postgres else ""

    def _param(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.is_postgres else sql

    def _transaction(self, alone: bool = False):
        """A cursor in a transaction; `alone`: for one statement, which is atomic by itself, so
        it is sent without BEGIN and COMMIT (three round trips to PostgreSQL for one read)."""
        import contextlib

        @contextlib.contextmanager
        def transaction():
            if self.is_postgres:
                with self._postgres_pool().connection() as conn:
                    if alone:
                        with conn.cursor() as cur:
                            yield cur
                    else:
                        with conn.transaction(), conn.cursor() as cur:
                            yield cur
            else:
                with self._lock:
                    if self._sqlite is None:
                        self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
                        self._sqlite = sqlite3.connect(str(self.sqlite_path), check_same_thread=False,
                                                       isolation_level=None)
                        self._sqlite.execute("PRAGMA journal_mode=WAL")
                    cur = self._sqlite.cursor()
                    if alone:
                        yield cur
                        return
                    cur.execute("BEGIN IMMEDIATE")
                    try:
                        yield cur
                        cur.execute("COMMIT")
                    except BaseException:
                        cur.execute("ROLLBACK")
                        raise

        return transaction()

    def _postgres_pool(self):
        if self._pool is None:
            self._pool = database.checked_pool(self.settings.pg_dsn, max_size=4, autocommit=True)
        return self._pool

    def apply(self, projection: str, entries: Sequence[Entry], positions: dict[str, int],
              tables: str = LIVE) -> None:
        self.apply_many([(projection, entries, positions)], tables)

    @database.retried_once_if_dropped
    def apply_many(self, batches: Sequence[tuple[str, Sequence[Entry], dict[str, int]]],
                   tables: str = LIVE) -> None:
        """Entries and positions of one or more projections, atomically."""
        rows = [(projection, e.key, e.at, e.event_id, canonical(e.data))
                for projection, entries, _ in batches for e in entries]
        positions = [(projection, source, position) for projection, _, ps in batches for source, position in ps.items()]
        if self.is_postgres:
            self._apply_in_one_statement(rows, positions, tables)
            return
        with self._transaction() as cur:
            cur.executemany(f"INSERT INTO {tables}_entries VALUES (?, ?, ?, ?, ?) "
                            "ON CONFLICT (projection, key, event_id) DO NOTHING", rows)
            cur.executemany(f"INSERT INTO {tables}_positions AS p VALUES (?, ?, ?) ON CONFLICT (projection, source) "
                            "DO UPDATE SET position = MAX(p.position, excluded.position)", positions)

    def _apply_in_one_statement(self, rows: list[tuple], positions: list[tuple], tables: str) -> None:
        """PostgreSQL: one statement (so one round trip, committed on its own) with the rows and
        the positions as two JSON array parameters, cheaper to send than a text array per column."""
        with self._postgres_pool().connection() as conn:
            conn.autocommit = True  # (the pool's connections are; a guard, not a round trip)
            conn.execute(
                f"WITH entries AS (INSERT INTO {self._prefix}{tables}_entries "
                "SELECT r->>0, r->>1, r->>2, r->>3, r->>4 FROM json_array_elements(%s::json) r "
                "ON CONFLICT (projection, key, event_id) DO NOTHING) "
                f"INSERT INTO {self._prefix}{tables}_positions AS p "
                "SELECT q->>0, q->>1, (q->>2)::bigint FROM json_array_elements(%s::json) q "
                "ON CONFLICT (projection, source) DO UPDATE SET position = GREATEST(p.position, excluded.position)",
                (canonical(rows), canonical(positions)), prepare=True)

    @database.retried_once_if_dropped
    def position(self, projection: str, source: str) -> int | None:
        with self._transaction(alone=True) as cur:
            cur.execute(self._param(
                f"SELECT position FROM {self._prefix}{LIVE}_positions WHERE projection=? AND source=?"),
                (projection, source))
            row = cur.fetchone()
        return None if row is None else int(row[0])

    @database.retried_once_if_dropped
    def reset(self, projection: str, tables: str = LIVE) -> None:
        with self._transaction() as cur:
            self._delete(cur, projection, tables)

    def _delete(self, cur, projection: str, tables: str) -> None:
        for table in (f"{tables}_entries", f"{tables}_positions"):
            cur.execute(self._param(f"DELETE FROM {self._prefix}{table} WHERE projection=?"), (projection,))

    @database.retried_once_if_dropped
    def positions(self, projection: str, tables: str = LIVE) -> dict[str, int]:
        with self._transaction(alone=True) as cur:
            cur.execute(self._param(
                f"SELECT source, position FROM {self._prefix}{tables}_positions WHERE projection=?"), (projection,))
            return {source: int(position) for source, position in cur.fetchall()}

    @database.retried_once_if_dropped
    def swap_in(self, projection: str, rebuilt_as: str) -> bool:
        """Replace the live projection with the rebuilt one in one transaction, so a reader sees
        the old rows or the new ones, never a mix. Refused (False) while the live projector is
        ahead of the rebuild somewhere: the caller catches up and tries again."""
        with self._transaction() as cur:
            self._hold_live_writers(cur)
            return self._swap(cur, projection, rebuilt_as)

    def _hold_live_writers(self, cur) -> None:
        if self.is_postgres:  # live writers wait (readers do not) until this transaction ends
            cur.execute(f"LOCK TABLE {self._prefix}{LIVE}_entries, {self._prefix}{LIVE}_positions "
                        "IN SHARE ROW EXCLUSIVE MODE")

    def _swap(self, cur, projection: str, rebuilt_as: str) -> bool:
        select = f"SELECT source, position FROM {self._prefix}{{t}}_positions WHERE projection=?"
        cur.execute(self._param(select.format(t=LIVE)), (projection,))
        live = dict(cur.fetchall())
        cur.execute(self._param(select.format(t=REBUILD)), (rebuilt_as,))
        rebuilt = dict(cur.fetchall())
        if any(position > rebuilt.get(source, -1) for source, position in live.items()):
            return False
        self._delete(cur, projection, LIVE)
        for table, columns in (("entries", "?, key, at, event_id, data"), ("positions", "?, source, position")):
            cur.execute(self._param(
                f"INSERT INTO {self._prefix}{LIVE}_{table} SELECT {columns} FROM {self._prefix}{REBUILD}_{table} "
                "WHERE projection=?"), (projection, rebuilt_as))
        self._delete(cur, rebuilt_as, REBUILD)
        return True

    def held_live_writers(self) -> "HeldLiveWriters | None":
        """PostgreSQL: a transaction that keeps the live projectors from writing until it ends, so
        a replay's last catch-up cannot be overtaken under load. None on SQLite (the embedded
        default has one process; its optimistic swap converges)."""
        if not self.is_postgres:
            return None
        pool = self._postgres_pool()
        conn = pool.getconn()
        try:
            conn.autocommit = False  # one transaction across the calls until `release`
            cur = conn.cursor()
            self._hold_live_writers(cur)
        except BaseException:
            conn.rollback()
            conn.autocommit = True
            pool.putconn(conn)
            raise
        return HeldLiveWriters(self, pool, conn, cur)

    @database.retried_once_if_dropped
    def entries(self, projection: str, key: str, tables: str = LIVE) -> list[dict[str, Any]]:
        with self._transaction(alone=True) as cur:
            cur.execute(self._param(
                f"SELECT data FROM {self._prefix}{tables}_entries WHERE projection=? AND key=? "
                "ORDER BY at, event_id"), (projection, key))
            return [json.loads(row[0]) for row in cur.fetchall()]

    @database.retried_once_if_dropped
    def entries_by_key(self, projection: str) -> dict[str, list[dict[str, Any]]]:
        """Every key's entries in one query (a listing, not one query per key)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        with self._transaction(alone=True) as cur:
            cur.execute(self._param(
                f"SELECT key, data FROM {self._prefix}{LIVE}_entries WHERE projection=? "
                "ORDER BY key, at, event_id"), (projection,))
            for key, data in cur.fetchall():
                grouped.setdefault(key, []).append(json.loads(data))
        return grouped

    @database.retried_once_if_dropped
    def run_sql(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        """One statement on the live entries table, named `{entries}` in `sql` with `?` marks
        (listings read their pages in SQL; see service_runtime/listing.py)."""
        with self._transaction(alone=True) as cur:
            cur.execute(self._param(sql.format(entries=f"{self._prefix}{LIVE}_entries")), tuple(params))
            return cur.fetchall() if cur.description else []

    @database.retried_once_if_dropped
    def checksum(self, projection: str, tables: str = LIVE) -> tuple[str, int]:
        """sha256 over every row in a fixed order, and the number of rows."""
        digest = hashlib.sha256()
        count = 0
        with self._transaction(alone=True) as cur:
            cur.execute(self._param(
                f"SELECT key, at, event_id, data FROM {self._prefix}{tables}_entries WHERE projection=? "
                "ORDER BY key, at, event_id"), (projection,))
            for key, at, event_id, data in cur.fetchall():
                digest.update(f"{key}\t{at}\t{event_id}\t{data}\n".encode())
                count += 1
        return digest.hexdigest(), count

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._sqlite is not None:
            self._sqlite.close()


class HeldLiveWriters:
    """An open transaction holding the live tables' write lock (see `held_live_writers`)."""

    def __init__(self, store: ProjectionStore, pool, conn, cur) -> None:
        self.store, self._pool, self._conn, self._cur = store, pool, conn, cur

    def positions(self, projection: str) -> dict[str, int]:
        self._cur.execute(self.store._param(
            f"SELECT source, position FROM {self.store._prefix}{LIVE}_positions WHERE projection=?"), (projection,))
        return {source: int(position) for source, position in self._cur.fetchall()}

    def swap_in(self, projection: str, rebuilt_as: str) -> bool:
        return self.store._swap(self._cur, projection, rebuilt_as)

    def release(self, commit: bool) -> None:
        try:
            self._conn.commit() if commit else self._conn.rollback()
            self._conn.autocommit = True  # as the pool lends them
        finally:
            self._pool.putconn(self._conn)

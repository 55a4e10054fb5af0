"""Event store wiring for `eventsourcing` applications.

Each service gets its own store: a PostgreSQL schema named after the service in the stack, a
SQLite file under var/ in the embedded default. The recorder is a process recorder, so a
consumer writes its new events, its tracking position and the id of the event it handled in one
transaction; the extra inbox table turns a redelivered event id into "already processed".
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import cached_property
from typing import Any, Callable, Iterator, Sequence, TypeVar
from urllib.parse import urlparse

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, Repository
from eventsourcing.persistence import IntegrityError, InterfaceError, Notification, OperationalError, StoredEvent, \
    Tracking
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from service_runtime.aggregate_cache import CACHE_SIZE, ConsistentCacheRepository, repository_for
from service_runtime.clock import SYSTEM_CLOCK, Clock
from service_runtime.database import CONNECT_TIMEOUT
from service_runtime.handoff import CommittedNotifications
from service_runtime.idempotency import earlier_answer
from service_runtime.postgres_recorder import ALREADY_PROCESSED, INBOX_KWARG, TRACKING_NOT_ADVANCED, \
    TRACKINGS_KWARG, InboxPostgresProcessRecorder, inbox_and_trackings
from service_runtime.settings import Settings
from service_runtime.wakeup import Signal



class AlreadyProcessed(Exception):
    """The event (by id or by position) was handled before; nothing was written."""


class InboxSQLiteProcessRecorder(SQLiteProcessRecorder):
    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append("CREATE TABLE IF NOT EXISTS inbox (event_id TEXT PRIMARY KEY)")
        return statements

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        event_ids, trackings = inbox_and_trackings(kwargs)
        for event_id in event_ids:
            c.execute("INSERT OR IGNORE INTO inbox VALUES (?) RETURNING event_id", (event_id,))
            if c.fetchone() is None:
                raise IntegrityError(f"event {event_id} {ALREADY_PROCESSED}")
        returning = super()._insert_events(c, stored_events)
        for tracking in trackings:
            self._insert_tracking(c, tracking)
        return returning

    def select_events_after(self, positions: Sequence[tuple[Any, int]]) -> Sequence[StoredEvent]:
        """The PostgreSQL recorder's one round trip, as a read per aggregate (one process, no network)."""
        return [stored for originator_id, after in positions
                for stored in self.select_events(originator_id, gt=after or None)]

    def insert_tracking_then_select(self, tracking: Tracking, limit: int) -> Sequence[Notification]:
        """The PostgreSQL recorder's one round trip, as two calls (one process, no network)."""
        self.insert_tracking(tracking)
        return self.select_notifications(start=tracking.notification_id + 1, limit=limit)


def schema_for(service: str, settings: Settings) -> str:
    return f"{settings.namespace}_{service}" if settings.namespace else service


def store_env(service: str, settings: Settings) -> dict[str, str]:
    """eventsourcing environment for one service's store."""
    if settings.mode == "stack":
        dsn = urlparse(settings.pg_dsn)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dsn.path.lstrip("/"),
            "POSTGRES_HOST": dsn.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(dsn.port or 5432),
            "POSTGRES_USER": dsn.username or "",
            "POSTGRES_PASSWORD": dsn.password or "",
            "POSTGRES_SCHEMA": schema_for(service, settings),
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_LOCK_TIMEOUT": "10",
            # Check a pooled connection before use (a restart leaves dead ones behind), and do not
            # wait long for one: a request then gets a 503 to retry instead of hanging.
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_CONNECT_TIMEOUT": str(int(CONNECT_TIMEOUT)),
            "CREATE_TABLE": "y",
            "PROCESS_RECORDER_TOPIC": "service_runtime.postgres_recorder:InboxPostgresProcessRecorder",
        }
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.var_dir / f"{service}.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "10",
        "CREATE_TABLE": "y",
        "PROCESS_RECORDER_TOPIC": f"{__name__}:InboxSQLiteProcessRecorder",
    }


def ensure_schema(service: str, settings: Settings) -> None:
    if settings.mode != "stack":
        return
    import psycopg

    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema_for(service, settings))))


def drop_namespace_schemas(settings: Settings, namespaces: Sequence[str] = ()) -> list[str]:
    """Drop every schema of these namespaces (by default the settings' own: a bench's, a test's),
    over one connection: `<namespace>_<store>`, where a store's name has no underscore, so
    namespace `t1` never takes `t1_x`'s `t1_x_orders`, and namespaces `pg` and `information` never
    take the database's own. Refused for an empty namespace, the platform's own."""
    namespaces = list(namespaces) or [settings.namespace]
    if not all(namespaces):
        raise ValueError("only a namespace's schemas can be dropped, never the platform's own")
    import psycopg

    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:
        doomed = [name for (name,) in conn.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name ~ %s"
            " AND schema_name !~ '^(pg_|information_schema$)' ORDER BY schema_name",
            (f"^({'|'.join(namespaces)})_[a-z0-9]+$",))]
        for name in doomed:
            conn.execute(SQL("DROP SCHEMA {} CASCADE").format(Identifier(name)))
    return doomed


A = TypeVar("A")
T = TypeVar("T")
SAVE_ATTEMPTS = 5


class ServiceApplication(Application):
    """An application whose recorder also keeps tracking and inbox records."""

    clock: Clock = SYSTEM_CLOCK  # what time it is for commands and timers; tests inject a ManualClock

    def construct_repository(self) -> Repository:
        """Recent aggregates cached per process (`service_runtime/aggregate_cache.py`);
        `AGGREGATE_CACHE_MAXSIZE` in the store's environment sets how many, 0 or empty for none."""
        size = self.env.get(self.AGGREGATE_CACHE_MAXSIZE, str(CACHE_SIZE))
        return repository_for(self.events, self.snapshots, int(size) if size else None)

    def find(self, aggregate_id: Any, kind: type[A]) -> A | None:
        """The aggregate if it exists and is a `kind`: an id of another kind finds nothing."""
        together = getattr(self._loaded_together, "aggregates", None)
        if together is not None and aggregate_id in together:
            found = together.pop(aggregate_id)  # handed out once: a second find reads again
            return found if isinstance(found, kind) else None
        try:
            found = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None

    @contextmanager
    def loading_together(self, *aggregate_ids: Any) -> Iterator[None]:
        """Within the block, on this thread, `find` of these ids answers from one read of the store
        made as it starts, instead of a read each: for a command or reaction that knows which
        aggregates it needs (an item and its storage timers). What it hands out is what `find`
        would have read a moment before; saving stays guarded by each aggregate's version."""
        if not isinstance(self.repository, ConsistentCacheRepository):
            yield
            return
        found = self.repository.get_all(aggregate_ids)
        outer = getattr(self._loaded_together, "aggregates", None)
        self._loaded_together.aggregates = {**(outer or {}), **{i: found.get(i) for i in aggregate_ids}}
        try:
            yield
        finally:
            self._loaded_together.aggregates = outer

    @cached_property
    def _loaded_together(self) -> threading.local:
        return threading.local()

    def save_with_retry(self, change: Callable[[], tuple[Sequence[Any], T]]) -> T:
        """`change` loads aggregates, changes them and returns (changed aggregates, result); they
        are saved together. If one of them moved on meanwhile (a racing request with the same
        key, a reaction), the stale save fails on its version and `change` runs again on fresh
        state; after a few attempts the IntegrityError reaches the caller (a 409)."""
        for attempt in range(SAVE_ATTEMPTS):
            aggregates, result = change()
            if not aggregates:  # nothing changed (e.g. the answer to a repeated request)
                return result
            try:
                self.save(*aggregates)
                return result
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def create_once(self, aggregate_id: Any, kind: type[A], request_fingerprint: str,
                    create: Callable[[], tuple[Sequence[Any], A]]) -> A:
        """Idempotency-Key for a command that creates an aggregate: its id is derived from the
        key, so a retry finds what the first request created and gets it back (the same request)
        or a 422 (another request under the same key); two racing requests save once."""

        def attempt() -> tuple[Sequence[Any], A]:
            earlier = self.find(aggregate_id, kind)
            if earlier is not None:
                earlier_answer({"fingerprint": earlier.request_fingerprint}, request_fingerprint)
                return [], earlier
            return create()

        return self.save_with_retry(attempt)
    def originators_of(self, event_class: type, **matching: Any) -> list[Any]:
        """Ids of the aggregates that recorded `event_class` with these attribute values, in
        store order (a scan of the service's own log: for small staff queues and lookups)."""
        topic = f"{event_class.__module__}:{event_class.__qualname__}"
        ids = []
        for notification in self.recorder.select_notifications(start=1, limit=10_000_000, topics=[topic]):
            event = self.mapper.to_domain_event(notification)
            if all(getattr(event, k, None) == v for k, v in matching.items()):
                ids.append(event.originator_id)
        return list(dict.fromkeys(ids))

    def construct_recorder(self) -> Any:
        recorder = self.factory.process_recorder()
        if isinstance(recorder, InboxPostgresProcessRecorder):  # its NOTIFYs name the signal saves notify here
            recorder.saved_by = self.new_events.token
        return recorder

    @cached_property
    def new_events(self) -> Signal:
        """Set after every committed save of this process: wakes the relay and the timer
        scheduler at once instead of their polling (saves of other processes arrive by LISTEN)."""
        return Signal()

    @property
    def committed(self) -> CommittedNotifications:
        """What this process's saves committed, for its relay to publish without reading it back."""
        return self._handoffs[0]

    def committed_from_now(self) -> CommittedNotifications:
        """What this process's saves commit from now on, for one more reader of the log (the
        timer scheduler), which takes it at its own pace."""
        handoff = CommittedNotifications()
        self._handoffs.append(handoff)
        return handoff

    @cached_property
    def _handoffs(self) -> list[CommittedNotifications]:
        """Every reader's hand-off of this process's saves; the first, the relay's, is kept from
        the process's first save."""
        return [CommittedNotifications()]

    def _record(self, processing_event: Any) -> Any:
        try:
            recordings = super()._record(processing_event)
        except (InterfaceError, OperationalError):
            # The connection failed: the save may have committed, and its NOTIFY names this
            # signal, which `wakeup.listen` passes over. A wake for nothing costs one read.
            self.new_events.notify()
            raise
        notifications = [recording.notification for recording in recordings]
        for handoff in self._handoffs:
            handoff.add(notifications)
        self.new_events.notify({get_topic(type(event)) for event in processing_event.events})
        return recordings

    def save_reaction(self, *aggregates: Any, tracking: Any, event_id: Any) -> list[Any]:
        """Save a consumer's new events with its position and the handled event's id, atomically."""
        return self.save_reactions(aggregates, [tracking] if tracking is not None else [],
                                   [event_id] if event_id is not None else [])

    def save_reactions(self, changes: Sequence[Any], trackings: Sequence[Tracking],
                       event_ids: Sequence[Any]) -> list[Any]:
        """Save several reactions' new events (`changes`: aggregates, or their events in the order
        to write them) with their positions (one per partition) and the handled events' ids,
        atomically: all of them or, raising, none."""
        processing = ProcessingEvent()
        processing.collect_events(*changes, **{INBOX_KWARG: list(event_ids), TRACKINGS_KWARG: list(trackings)})
        try:
            return self._record(processing)
        except IntegrityError as exc:
            if ALREADY_PROCESSED in str(exc) or TRACKING_NOT_ADVANCED in str(exc):
                raise AlreadyProcessed(str(exc)) from exc
            raise

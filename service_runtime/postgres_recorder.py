"""The event store's PostgreSQL recorder: eventsourcing's process recorder, plus an inbox of
handled event ids, and every save in one statement.

A save is a consumer's reaction (its new events, its tracking position and the id of the event it
handled) or a command's new events. The library writes one in a pipelined transaction: up to
seven statements (inbox, tracking, lock timeout, table lock, NOTIFY, insert, commit), each sent
on its own and three of them waited for. Here one call of a PL/pgSQL function does the same
work, in the same order and under the same table lock, as one round trip: on this kind of
machine every message to the database wakes its backend, which costs more than the statements.
"""

from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.persistence import IntegrityError, InterfaceError, Notification, OperationalError, StoredEvent, \
    Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier, Literal

from service_runtime.database import connection_alive

INBOX_KWARG = "inbox_event_ids"  # the handled events' ids (several when reactions are saved together)
TRACKINGS_KWARG = "trackings"  # positions beside the one `tracking`: one per partition a batch read
ALREADY_PROCESSED = "already processed"  # in the error of a repeated event id
TRACKING_NOT_ADVANCED = "Failed to record tracking"  # the library's words for a position not ahead

RECORD_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.kongfu_save(
    p_inbox_event_ids text[], p_tracking_names text[], p_tracking_ids bigint[],
    p_originator_ids uuid[], p_versions bigint[], p_topics text[], p_states bytea[], p_saved_by text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $body$
DECLARE
    written bigint;
BEGIN
    IF cardinality(p_inbox_event_ids) > 0 THEN
        INSERT INTO {schema}.{inbox} SELECT unnest(p_inbox_event_ids) ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written < cardinality(p_inbox_event_ids) THEN
            RAISE unique_violation USING MESSAGE = format('event among %s {already}', p_inbox_event_ids);
        END IF;
    END IF;
    IF cardinality(p_tracking_names) > 0 THEN
        INSERT INTO {schema}.{tracking} AS t SELECT * FROM unnest(p_tracking_names, p_tracking_ids)
            ON CONFLICT (application_name) DO UPDATE SET notification_id = excluded.notification_id
            WHERE t.notification_id < excluded.notification_id;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written < cardinality(p_tracking_names) THEN
            RAISE unique_violation USING MESSAGE = format('{not_advanced} for %s %s', p_tracking_names, p_tracking_ids);
        END IF;
    END IF;
    IF cardinality(p_originator_ids) > 0 THEN
        -- Inserts are serialised so that notification ids commit in order: a reader of the
        -- notification log (the relay) never passes a gap that a slower transaction fills later.
        PERFORM set_config('lock_timeout', {lock_timeout}, true);
        LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE;
        PERFORM pg_notify({channel}, p_saved_by);
        RETURN QUERY INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state)
            SELECT * FROM unnest(p_originator_ids, p_versions, p_topics, p_states)
            RETURNING notification_id;
    END IF;
END;
$body$
"""


def inbox_and_trackings(kwargs: dict[str, Any]) -> tuple[list[str], list[Tracking]]:
    """The event ids a save records as handled, and the positions it records, from its kwargs."""
    event_ids = [str(event_id) for event_id in kwargs.get(INBOX_KWARG, ())]
    tracking = kwargs.get("tracking")  # eventsourcing's own: a processing event's one position
    trackings = [*([tracking] if tracking is not None else []), *kwargs.get(TRACKINGS_KWARG, ())]
    # In one order for every writer: two saves of the same ids or positions wait, never deadlock.
    return sorted(event_ids), sorted(trackings, key=lambda t: t.application_name)


class InboxPostgresProcessRecorder(PostgresProcessRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events",
                 tracking_table_name: str = "notification_tracking") -> None:
        if datastore.pre_ping:  # the library's check is a round trip per lend; ours is not
            datastore.pool._check = connection_alive  # noqa: SLF001 - the pool takes it only at construction
        super().__init__(datastore, events_table_name=events_table_name,
                         tracking_table_name=tracking_table_name)
        if not datastore.single_row_tracking or datastore.originator_id_type != "uuid":
            raise ValueError("the event store expects single-row tracking and uuid originator ids")
        self.inbox_table_name = tracking_table_name.replace("_tracking", "") + "_inbox"
        # psycopg renders a composed statement on every execute, quoting each identifier anew:
        # these run on every load, refresh and position, so they are rendered once, to plain SQL.
        for name in ("select_events_statement", "insert_tracking_statement", "max_tracking_id_statement",
                     "max_notification_id_statement"):
            setattr(self, name, SQL(getattr(self, name).as_string()))
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {0}.{1} (event_id text PRIMARY KEY)").format(
                schema, Identifier(self.inbox_table_name)))
        self.sql_create_statements.append(SQL(RECORD_FUNCTION).format(
            schema=schema, inbox=Identifier(self.inbox_table_name), tracking=Identifier(self.tracking_table_name),
            events=Identifier(self.events_table_name), channel=Literal(self.channel_name),
            lock_timeout=Literal(f"{self.datastore.lock_timeout}s"), already=SQL(ALREADY_PROCESSED),
            not_advanced=SQL(TRACKING_NOT_ADVANCED)))
        self.saved_by = ""  # the NOTIFY payload: the token of the signal the application notifies
        self.record_statement = SQL("SELECT n FROM {0}.kongfu_save(%s, %s, %s, %s, %s, %s, %s, %s) AS n").format(
            schema).as_string().encode()
        # The relay's position and its next read in one statement: the read's snapshot is taken
        # when the statement starts, as a read of its own would be. One row at least, to say
        # whether the position advanced; the event columns are null when none follows it.
        self.tracking_then_notifications_statement = SQL(
            "WITH recorded AS ({insert}) SELECT (SELECT count(*) FROM recorded) AS recorded, e.* "
            "FROM (SELECT) AS one LEFT JOIN LATERAL (SELECT * FROM {schema}.{events} "
            "WHERE notification_id > %(notification_id)s ORDER BY notification_id LIMIT %(limit)s) AS e ON true"
        ).format(insert=self.insert_tracking_statement, schema=schema, events=Identifier(self.events_table_name)
                 ).as_string().encode()
        self.select_events_after_statement = SQL(
            "SELECT e.* FROM unnest(%s::uuid[], %s::bigint[]) AS wanted (originator_id, after) "
            "JOIN {schema}.{events} AS e ON e.originator_id = wanted.originator_id "
            "AND e.originator_version > wanted.after ORDER BY e.originator_id, e.originator_version"
        ).format(schema=schema, events=Identifier(self.events_table_name)).as_string().encode()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_after(self, positions: Sequence[tuple[Any, int]]) -> Sequence[StoredEvent]:
        """The events of several aggregates, each after its own version (0: all of them), in one
        round trip: by aggregate, then by version."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_events_after_statement,
                         ([originator_id for originator_id, _ in positions], [after for _, after in positions]),
                         prepare=True)
            return [StoredEvent(originator_id=row["originator_id"], originator_version=row["originator_version"],
                                topic=row["topic"], state=bytes(row["state"])) for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        event_ids, trackings = inbox_and_trackings(kwargs)
        parameters = (
            event_ids or None, [t.application_name for t in trackings] or None,
            [t.notification_id for t in trackings] or None,
            [e.originator_id for e in stored_events], [e.originator_version for e in stored_events],
            [e.topic for e in stored_events], [e.state for e in stored_events], self.saved_by,
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.record_statement, parameters, prepare=True)
            return [row["n"] for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_tracking(self, tracking: Tracking) -> None:
        """A position alone (the relay's, or a consumer's past messages it has no handler for): the
        library's single upsert, sent on its own. The library wraps it in a transaction, three round
        trips where the statement alone is atomic. Raises IntegrityError if it does not advance."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            self._insert_tracking(curs, tracking)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_tracking_then_select(self, tracking: Tracking, limit: int) -> Sequence[Notification]:
        """`insert_tracking`, then up to `limit` notifications after its position: one round trip.
        Raises IntegrityError, and reads nothing, if the position does not advance."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.tracking_then_notifications_statement,
                         {"application_name": tracking.application_name,
                          "notification_id": tracking.notification_id, "limit": limit}, prepare=True)
            rows = curs.fetchall()
        if not rows[0]["recorded"]:
            raise IntegrityError(f"{TRACKING_NOT_ADVANCED} for {tracking.application_name} {tracking.notification_id}")
        return [Notification(id=row["notification_id"], originator_id=row["originator_id"],
                             originator_version=row["originator_version"], topic=row["topic"],
                             state=bytes(row["state"]))
                for row in rows if row["notification_id"] is not None]

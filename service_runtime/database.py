"""PostgreSQL connection handling every store shares: checked pools, one retry on a dropped
connection, and how to tell "the database is away" (a 503 to retry) from a real error.

A PostgreSQL restart closes every pooled connection. A pool that checks a connection before
handing it out (`check=connection_alive`) replaces the dead ones; an operation
already running on one when the server went away is run once more on a fresh connection. While
the server is still down, callers get `DatabaseUnavailable`, which gateways answer with 503 and
`Retry-After`, never 500.
"""

from __future__ import annotations

import functools
import logging
import select
from typing import Any, Callable, TypeVar

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a request waits for a connection before the database counts as away (seconds).
CONNECT_TIMEOUT = 2.0
# What a 503 tells the client: a PostgreSQL restart takes a few seconds.
RETRY_AFTER_SECONDS = 2

# The errors that mean "no usable connection", not "the statement was wrong".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout,
    StoreOperationalError, StoreInterfaceError,
)


# A full disk is not over in seconds: someone has to free space or grow the volume.
DISK_FULL_RETRY_AFTER_SECONDS = 30


def disk_full(exc: BaseException) -> bool:
    """Whether the database refused the write for want of disk space (SQLSTATE 53100), however the
    store wrapped that error."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, psycopg.errors.DiskFull):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now; the same request may succeed shortly."""


def connection_alive(conn: psycopg.Connection) -> None:
    """A pool's check before it lends a connection: raises if the connection is dead.

    An idle connection the server has closed (a restart, a terminated backend) has its socket
    readable: the server's goodbye and the end of the stream are waiting in it. Only then is a
    round trip made (the pool's own check, which raises on a dead one). A healthy idle
    connection costs a zero-timeout `select` instead of a round trip on every lend, which was a
    third of the round trips of a consumer's save."""
    if conn.closed or conn.pgconn.status != psycopg.pq.ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    if readable:
        psycopg_pool.ConnectionPool.check_connection(conn)


def checked_pool(dsn: str, max_size: int, autocommit: bool = False) -> psycopg_pool.ConnectionPool:
    """A pool that checks each connection before lending it, so a restart leaves no stale ones.
    `autocommit`: a single statement commits on its own (no BEGIN and COMMIT round trips);
    `conn.transaction()` still groups several."""
    return psycopg_pool.ConnectionPool(dsn, min_size=1, max_size=max_size, open=True, timeout=CONNECT_TIMEOUT,
                                       check=connection_alive, kwargs={"autocommit": autocommit})


def retry_once_if_dropped(operation: Callable[[], T]) -> T:
    """Run `operation`; if its connection was dropped, once more (the pool then checks and
    replaces connections). If the database is still away: DatabaseUnavailable."""
    try:
        return operation()
    except UNAVAILABLE_ERRORS as first:
        log.warning("database connection lost (%s); retrying once", first.__class__.__name__)
    try:
        return operation()
    except UNAVAILABLE_ERRORS as second:
        raise DatabaseUnavailable(str(second) or second.__class__.__name__) from second


def retried_once_if_dropped(method: Callable[..., T]) -> Callable[..., T]:
    """Decorator form of `retry_once_if_dropped`."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return retry_once_if_dropped(lambda: method(*args, **kwargs))

    return wrapper


def ping(dsn: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raises DatabaseUnavailable unless a fresh connection answers (readiness)."""
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("SELECT 1")
    except UNAVAILABLE_ERRORS as exc:
        raise DatabaseUnavailable(str(exc).splitlines()[0] if str(exc) else "unreachable") from exc

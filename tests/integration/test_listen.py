"""`wakeup.listen` on PostgreSQL: a NOTIFY on the channel wakes the signal; a LISTEN connection
the server drops is reconnected, and the notifications after it wake the signal again."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from service_runtime import wakeup

pytestmark = pytest.mark.stack


class Counting(wakeup.Signal):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def notify(self) -> None:
        self.count += 1
        super().notify()


async def _until(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def test_notifications_wake_the_signal_across_a_dropped_connection(stack, namespace):
    channel = f"{namespace}_wakeup"

    async def notify(conn: psycopg.AsyncConnection) -> None:
        await conn.execute(f'NOTIFY "{channel}"')

    async def scenario() -> None:
        signal, stop = Counting(), asyncio.Event()
        listener = asyncio.create_task(wakeup.listen(stack["pg_dsn"], channel, signal, stop))
        async with await psycopg.AsyncConnection.connect(stack["pg_dsn"], autocommit=True) as conn:
            await _until(lambda: signal.count == 1, "the signal on connecting")
            await notify(conn)
            await _until(lambda: signal.count == 2, "the first notification")
            cursor = await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE query = %s", (f'LISTEN "{channel}"',))
            assert [row[0] for row in await cursor.fetchall()] == [True], "the LISTEN connection dropped"
            # Dropped: the signal fires (work may have been missed); reconnected: it fires again.
            await _until(lambda: signal.count >= 4, "the reconnection")
            before = signal.count
            await notify(conn)
            await _until(lambda: signal.count == before + 1, "a notification after the reconnection")
        stop.set()
        await asyncio.wait_for(listener, timeout=10)

    asyncio.run(scenario())

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


def test_a_save_s_notification_wakes_every_listener_but_the_one_its_application_woke_already(stack, namespace):
    """Each save NOTIFYs with the token of the signal its application notifies in-process: the
    listener feeding that signal passes over it (its loops are awake already); others wake."""
    from eventsourcing.domain import Aggregate

    from service_runtime.settings import Settings
    from service_runtime.store import ServiceApplication, ensure_schema, store_env

    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("wakers", settings)
    saving = ServiceApplication(env=store_env("wakers", settings))
    in_process = []
    saving.new_events.notify = lambda *topics: in_process.append(1)

    async def scenario() -> tuple[int, int]:
        own, elsewhere, stop = Counting(), Counting(), asyncio.Event()
        own.token = saving.new_events.token  # as `store_listener` feeds the application's own signal
        listeners = [asyncio.create_task(wakeup.listen(stack["pg_dsn"], saving.recorder.channel_name, signal, stop))
                     for signal in (own, elsewhere)]
        await _until(lambda: own.count == 1 and elsewhere.count == 1, "both listeners connected")
        for _ in range(3):
            await asyncio.to_thread(saving.save, Aggregate())
        await _until(lambda: elsewhere.count == 4, "another process's three wakes")
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*listeners)
        return own.count, elsewhere.count

    try:
        own, elsewhere = asyncio.run(scenario())
        assert len(in_process) == 3  # each save woke its own application's loops in-process
        assert own == 1  # only the wake on connecting: its own saves' NOTIFYs were passed over
        assert elsewhere == 4
    finally:
        saving.close()

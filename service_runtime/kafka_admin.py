"""Topics on the broker: created with their partitions and leaders before anything uses them, and
a namespace's topics deleted when a bench is done with them."""

from __future__ import annotations

import asyncio
from typing import Sequence


async def ensure_topics(admin, topics: Sequence[str], partitions: int) -> None:
    from aiokafka.admin import NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(name=t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another process created them first
        await _wait_for_leaders(admin, list(topics))
    finally:
        await admin.close()


async def delete_topics_under(admin, prefixes: tuple[str, ...]) -> list[str]:
    """Every topic whose name starts with one of `prefixes`, deleted in one request."""
    await admin.start()
    try:
        doomed = sorted(t for t in await admin.list_topics() if t.startswith(prefixes))
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()


async def _wait_for_leaders(admin, topics: list[str], timeout: float = 30.0) -> None:
    """A created topic reaches the brokers' metadata a moment later; a consumer that subscribes
    before that is assigned no partitions and keeps none until its next metadata refresh
    (minutes), so start-up waits until every partition of every topic has a leader."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        described = await admin.describe_topics(topics)
        if all(t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
               for t in described):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"topics without partition leaders after {timeout:.0f} s")
        await asyncio.sleep(0.1)

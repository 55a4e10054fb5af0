"""Topics on the broker: created with their partitions and leaders before anything uses them, and
a namespace's topics and consumer groups deleted when a bench is done with them."""

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


async def delete_groups_under(admin, prefixes: tuple[str, ...]) -> list[str]:
    """Every consumer group whose id starts with one of `prefixes`, deleted at its coordinator;
    the ones deleted. A group that still has members stays (the broker refuses: a process of
    that namespace is running), as does one the broker reports any other error for."""
    from aiokafka.protocol.admin import DeleteGroupsRequest

    await admin.start()
    try:
        doomed = sorted(group for group, *_ in await admin.list_consumer_groups() if group.startswith(prefixes))
        by_coordinator: dict[int, list[str]] = {}
        for group in doomed:
            by_coordinator.setdefault(await admin.find_coordinator(group), []).append(group)
        deleted = []
        for coordinator, groups in by_coordinator.items():
            # aiokafka's admin client has the request but no call for it
            response = await admin._send_request(DeleteGroupsRequest(groups), coordinator)  # noqa: SLF001
            deleted += [group for group, error_code in response.results if error_code == 0]
        return sorted(deleted)
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

"""A bench deletes its namespace's topics when it is done: every topic it made, and nobody else's."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from service_runtime.eventlog import all_topics
from service_runtime.kafka_log import KafkaEventLog

pytestmark = pytest.mark.stack


def test_a_namespace_s_topics_are_deleted_and_no_other(stack, namespace):
    neighbour = f"t{uuid.uuid4().hex[:10]}"

    async def scenario() -> None:
        mine = KafkaEventLog(stack["kafka"], partitions=1, namespace=namespace)
        theirs = KafkaEventLog(stack["kafka"], partitions=1, namespace=neighbour)
        await mine.start()
        await theirs.start()
        changelog = f"{namespace}.kongfu.fraud.streams-velocity-changelog"  # as faust names its own
        await mine.ensure_topics([changelog])
        deleted = await mine.delete_namespace_topics()
        assert set(deleted) == {*all_topics(namespace), changelog}
        admin = mine._admin()  # noqa: SLF001 - the same client the log uses
        await admin.start()
        try:
            for _ in range(50):  # deletion reaches the metadata a moment later
                left = set(await admin.list_topics())
                if not left & set(deleted):
                    break
                await asyncio.sleep(0.1)
            assert not left & set(deleted)
            assert set(all_topics(neighbour)) <= left
        finally:
            await admin.close()
        await theirs.delete_namespace_topics()
        with pytest.raises(ValueError, match="namespace"):
            await KafkaEventLog(stack["kafka"]).delete_namespace_topics()

    asyncio.run(scenario())

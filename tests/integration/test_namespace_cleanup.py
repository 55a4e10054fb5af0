"""A bench, a chaos run or a test run forgets its namespace when it is done: every topic,
consumer group and schema it made, and nobody else's."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from kongfu.namespaces import forget_namespace
from service_runtime.eventlog import all_topics
from service_runtime.kafka_log import KafkaEventLog
from service_runtime.settings import Settings
from service_runtime.store import drop_namespace_schemas, ensure_schema, schema_for
from tests.support import NAMESPACES_MADE, new_namespace

pytestmark = pytest.mark.stack


def test_a_namespace_s_topics_are_deleted_and_no_other(stack, namespace):
    neighbour = new_namespace()

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


def test_a_namespace_s_schemas_are_dropped_and_no_other(stack, namespace):
    longer = f"{namespace}_x"  # a namespace of its own, whose schemas start with this one's name
    NAMESPACES_MADE.add(longer)
    settings, longer, neighbour = (Settings(mode="stack", namespace=name, pg_dsn=stack["pg_dsn"],
                                            kafka_bootstrap=stack["kafka"])
                                   for name in (namespace, longer, new_namespace()))
    for each in (settings, longer, neighbour):
        for store in ("orders", "warehouse"):
            ensure_schema(store, each)
    with psycopg.connect(stack["pg_dsn"], autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema_for("orders", settings)}".rows (id int)')

    forgotten = forget_namespace(settings)
    topics, dropped = forgotten.topics, forgotten.schemas

    assert dropped == sorted(schema_for(store, settings) for store in ("orders", "warehouse"))
    assert set(topics) <= set(all_topics(namespace))
    with psycopg.connect(stack["pg_dsn"]) as conn:
        left = {name for (name,) in conn.execute("SELECT schema_name FROM information_schema.schemata")}
    assert not left & set(dropped)
    assert {schema_for(store, other) for other in (longer, neighbour) for store in ("orders", "warehouse")} <= left
    for other in (longer, neighbour):
        drop_namespace_schemas(other)
    with pytest.raises(ValueError, match="namespace"):
        drop_namespace_schemas(Settings(mode="stack", pg_dsn=stack["pg_dsn"]))
    for database_s_own in ("pg", "information"):  # pg_catalog, pg_toast, information_schema
        assert drop_namespace_schemas(Settings(mode="stack", namespace=database_s_own, pg_dsn=stack["pg_dsn"])) == []


def test_several_namespaces_are_forgotten_at_once_and_no_other(stack):
    from kongfu.namespaces import forget_namespaces

    first, second, neighbour = new_namespace(), new_namespace(), new_namespace()
    at = {name: Settings(mode="stack", namespace=name, pg_dsn=stack["pg_dsn"], kafka_bootstrap=stack["kafka"])
          for name in (first, second, neighbour)}

    async def make_topics() -> None:
        for name in at:
            await KafkaEventLog(stack["kafka"], partitions=1, namespace=name).ensure_topics(all_topics(name)[:1])

    asyncio.run(make_topics())
    for settings in at.values():
        ensure_schema("orders", settings)

    forgotten = forget_namespaces(at[neighbour].model_copy(update={"namespace": ""}), [first, second])

    assert sorted(forgotten.topics) == sorted(all_topics(first)[:1] + all_topics(second)[:1])
    assert forgotten.schemas == sorted(schema_for("orders", at[name]) for name in (first, second))
    assert drop_namespace_schemas(at[neighbour]) == [schema_for("orders", at[neighbour])]  # still there until now
    with pytest.raises(ValueError, match="namespace"):
        forget_namespaces(at[first], [])


def test_a_namespace_s_consumer_groups_are_deleted_but_not_one_still_in_use_nor_another_s(stack, namespace):
    from aiokafka import AIOKafkaConsumer, TopicPartition

    neighbour = new_namespace()
    topic = all_topics(namespace)[0]
    done, running, theirs = (f"{namespace}.kongfu.orders", f"{namespace}.kongfu.claims", f"{neighbour}.kongfu.orders")

    async def scenario() -> None:
        mine = KafkaEventLog(stack["kafka"], partitions=1, namespace=namespace)
        await mine.ensure_topics([topic])

        async def committed(group: str) -> None:  # a group the broker keeps offsets for, no member left
            consumer = AIOKafkaConsumer(bootstrap_servers=stack["kafka"], group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                consumer.assign([TopicPartition(topic, 0)])
                await consumer.commit({TopicPartition(topic, 0): 0})
            finally:
                await consumer.stop()

        await committed(done)
        await committed(theirs)
        member = AIOKafkaConsumer(topic, bootstrap_servers=stack["kafka"], group_id=running)
        await member.start()
        try:
            await member.getmany(timeout_ms=3000)  # joined: the group has a member
            assert await mine.delete_namespace_groups([namespace]) == [done]
        finally:
            await member.stop()
        admin = mine._admin()  # noqa: SLF001 - the same client the log uses
        await admin.start()
        try:
            left = {group for group, *_ in await admin.list_consumer_groups()}
        finally:
            await admin.close()
        assert done not in left and {theirs, running} <= left
        assert await mine.delete_namespace_groups([namespace]) == [running]  # its member left
        assert await mine.delete_namespace_groups([neighbour]) == [theirs]
        await mine.delete_namespace_topics()
        with pytest.raises(ValueError, match="namespace"):
            await mine.delete_namespace_groups([""])

    asyncio.run(scenario())

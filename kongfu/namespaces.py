"""Forgetting a namespace on the local stack: what a bench, a chaos run or a test left behind.

A run in its own namespace leaves topics and consumer groups on the broker and schemas in
PostgreSQL. Kept, they pile up on a long-lived stack: the broker's idle work grows with the
partitions it keeps, its coordinator holds every group's offsets until a week after the group
went empty (and loads them all again when it restarts), and the database grows with the tables.
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple, Sequence

from service_runtime.kafka_log import KafkaEventLog
from service_runtime.settings import Settings
from service_runtime.store import drop_namespace_schemas


class Forgotten(NamedTuple):
    topics: list[str]
    groups: list[str]
    schemas: list[str]

    def __str__(self) -> str:
        return ", ".join(f"{len(names)} {noun}{'' if len(names) == 1 else 's'}" for names, noun in (
            (self.topics, "topic"), (self.groups, "consumer group"), (self.schemas, "schema")))


def forget_namespace(settings: Settings) -> Forgotten:
    """Delete the namespace's topics and consumer groups and drop its schemas. Refused for the
    platform's own (an empty namespace)."""
    return forget_namespaces(settings, [settings.namespace])


def forget_namespaces(settings: Settings, namespaces: Sequence[str]) -> Forgotten:
    """`forget_namespace` for several at once (a test run's): one listing of the topics, one
    delete request, one database connection."""
    if not namespaces or not all(namespaces):
        raise ValueError("only a namespace can be forgotten, never the platform's own topics and schemas")
    log = KafkaEventLog(settings.kafka_bootstrap, client_id="kongfu-forget", security=settings.kafka_security())

    async def on_the_broker() -> tuple[list[str], list[str]]:
        return await log.delete_namespace_topics(namespaces), await log.delete_namespace_groups(namespaces)

    topics, groups = asyncio.run(on_the_broker())
    return Forgotten(topics, groups, drop_namespace_schemas(settings, namespaces))


def forget_after_run(settings: Settings) -> str:
    """`forget_namespace` at the end of a run, as one line to report: a broker or database that
    is away then costs the run nothing but the leftovers (`kongfu forget` removes them later)."""
    try:
        forgotten = forget_namespace(settings)
    except Exception as exc:  # noqa: BLE001 - whatever stops the cleanup, the run's verdict stands
        return f"namespace {settings.namespace} not forgotten ({exc!r}); `kongfu forget {settings.namespace}` removes it"
    return f"namespace {settings.namespace} forgotten: {forgotten}"

"""Forgetting a namespace on the local stack: what a bench, a chaos run or a test left behind.

A run in its own namespace leaves topics on the broker and schemas in PostgreSQL. Kept, they
pile up on a long-lived stack: the broker's idle work grows with the partitions it keeps, and
the database with the tables. The namespace's consumer groups are left to the broker, which
drops a group's offsets a week after it went empty.
"""

from __future__ import annotations

import asyncio
from typing import Sequence

from service_runtime.kafka_log import KafkaEventLog
from service_runtime.settings import Settings
from service_runtime.store import drop_namespace_schemas


def forget_namespace(settings: Settings) -> tuple[list[str], list[str]]:
    """Delete the namespace's topics and drop its schemas; returns both lists. Refused for the
    platform's own (an empty namespace)."""
    return forget_namespaces(settings, [settings.namespace])


def forget_namespaces(settings: Settings, namespaces: Sequence[str]) -> tuple[list[str], list[str]]:
    """`forget_namespace` for several at once (a test run's): one listing of the topics, one
    delete request, one database connection."""
    if not namespaces or not all(namespaces):
        raise ValueError("only a namespace can be forgotten, never the platform's own topics and schemas")
    log = KafkaEventLog(settings.kafka_bootstrap, client_id="kongfu-forget", security=settings.kafka_security())
    topics = asyncio.run(log.delete_namespace_topics(namespaces))
    return topics, drop_namespace_schemas(settings, namespaces)


def forget_after_run(settings: Settings) -> str:
    """`forget_namespace` at the end of a run, as one line to report: a broker or database that
    is away then costs the run nothing but the leftovers (`kongfu forget` removes them later)."""
    try:
        topics, schemas = forget_namespace(settings)
    except Exception as exc:  # noqa: BLE001 - whatever stops the cleanup, the run's verdict stands
        return f"namespace {settings.namespace} not forgotten ({exc!r}); `kongfu forget {settings.namespace}` removes it"
    return f"namespace {settings.namespace} forgotten: {len(topics)} topics, {len(schemas)} schemas"

"""The platform's wiring as the code declares it: who publishes which topic, who reads which.

Derived by bootstrapping every service of the registry (embedded, in a throw-away directory), so
the cluster manifests, the ACLs and the AsyncAPI document follow a new service or a new consumer
without anyone restating it by hand.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kongfu import registry
from service_runtime.eventlog import dead_letter_topic, topic_for
from service_runtime.process import group_for, projector_group


@dataclass(frozen=True)
class ServiceTopology:
    name: str
    topic: str  # the one topic it publishes
    event_types: tuple[str, ...]  # contract types its relay publishes
    consumes: tuple[str, ...]  # topics its workers read
    handled_types: tuple[str, ...]  # event types its workers react to
    projections: tuple[tuple[str, tuple[str, ...]], ...]  # (projection, topics it reads)
    path_prefixes: tuple[str, ...]  # first path segments of its gateway routes
    has_timers: bool = False  # it schedules deadlines, fired by its `scheduler` role
    streams: Any = None  # its `streams` role's app (service_runtime.process.StreamsRole), if any

    @property
    def reads(self) -> tuple[str, ...]:
        """Every topic a process of this service reads (workers and projectors)."""
        topics = set(self.consumes)
        for _, sources in self.projections:
            topics.update(sources)
        if self.streams is not None:
            topics.update(self.streams.sources + self.streams.internal_topics + self.streams.changelog_topics)
        return tuple(sorted(topics))

    @property
    def writes(self) -> tuple[str, ...]:
        """Its own topic, and the dead-letter topics of what its workers consume (and its streams
        app's verdict, re-keying and changelog topics)."""
        streams = () if self.streams is None else (
            (self.streams.topic,) + self.streams.internal_topics + self.streams.changelog_topics)
        return (self.topic,) + tuple(dead_letter_topic(t) for t in self.consumes) + streams

    @property
    def groups(self) -> tuple[str, ...]:
        """Consumer groups: the workers' group, and the projector's (one consumer for all the
        service's projections, `<group>.projection.all`). A process running both roles uses
        `<group>.projection.with-worker` instead (`process.shared_group`), inside the same prefix."""
        own = group_for(self.name)
        return ((own,) + ((projector_group(self.name),) if self.projections else ())
                + ((self.streams.group,) if self.streams is not None else ()))

    @property
    def roles(self) -> tuple[str, ...]:
        roles = ["api", "relay"]
        if self.consumes:
            roles.append("worker")
        if self.projections:
            roles.append("projector")
        if self.has_timers:
            roles.append("scheduler")
        if self.streams is not None:
            roles.append("streams")
        return tuple(roles)


@lru_cache(maxsize=1)
def topology() -> tuple[ServiceTopology, ...]:
    from service_runtime.settings import Settings

    with tempfile.TemporaryDirectory(prefix="kongfu-topology-") as var:
        settings = Settings(mode="embedded", var_dir=Path(var), namespace="", jwt_secret="x" * 32,
                            carrier_webhook_secret="x" * 32)
        result = []
        for name in registry.SERVICES:
            parts = registry.bootstrap(name, settings)
            try:
                result.append(_describe(parts))
            finally:
                parts.app.close()
                if parts.projection_store is not None:
                    parts.projection_store.close()
        return tuple(result)


# First path segments that several services serve under (the caller's own data under /me, the
# published rule sets under /rules): the ingress routes these by their first two segments.
SHARED_SEGMENTS = ("me", "rules")


def _describe(parts) -> ServiceTopology:
    prefixes = set()
    for router in parts.routers:
        for route in router.routes:
            segments = getattr(route, "path", "/").split("/")
            if segments[1] in SHARED_SEGMENTS and len(segments) > 2:
                prefixes.add(f"/{segments[1]}/{segments[2]}")  # several services serve under it
            elif segments[1]:
                prefixes.add("/" + segments[1])
    # Every gateway with projections serves their operations routes (`/admin/projections/{name}/...`,
    # auditors): routed by the projection's name to the service that keeps it.
    prefixes.update(f"/admin/projections/{projection.name}" for projection in parts.projections)
    return ServiceTopology(
        name=parts.name,
        topic=topic_for(parts.name),
        event_types=tuple(sorted({c.event_type for c in parts.publication.contracts.values()})),
        consumes=tuple(topic_for(s) for s in parts.consumes),
        handled_types=tuple(sorted(parts.handlers)),
        projections=tuple((p.name, tuple(topic_for(s) for s in p.sources)) for p in parts.projections),
        path_prefixes=tuple(sorted(prefixes)),
        has_timers=bool(getattr(parts, "timers", None)),
        streams=parts.streams,
    )


def by_name() -> dict[str, ServiceTopology]:
    return {s.name: s for s in topology()}


if __name__ == "__main__":  # a quick look: python -m kongfu.topology
    os.environ.setdefault("KONGFU_MODE", "embedded")
    for service in topology():
        print(service)

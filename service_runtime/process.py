"""Running services: a service's parts, its process roles, and the gateway that hosts them.

Roles: `api` (the HTTP gateway), `relay` (outbox → Kafka), `worker` (consumers). Every process
serves /healthz, /readyz and /metrics, whichever roles it runs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from fastapi import APIRouter, FastAPI

from service_runtime.consumer import ConsumerRunner, Handler
from service_runtime.eventlog import EventLog, KafkaEventLog, LocalEventLog, topic_for
from service_runtime.http import create_app
from service_runtime.publishing import Publication
from service_runtime.relay import OutboxRelay
from service_runtime.settings import Settings
from service_runtime.store import ServiceApplication

ROLES = ("api", "relay", "worker")


@dataclass
class ServiceParts:
    name: str
    app: ServiceApplication
    publication: Publication
    routers: list[APIRouter]
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    consumes: Sequence[str] = ()  # services whose topics this one reads


def assemble(name: str, app_class: type[ServiceApplication], publishes: Mapping[type, Any], settings: Settings,
             router_factory: Any, handler_factory: Any = None, consumes: Sequence[str] = ()) -> ServiceParts:
    """The usual bootstrap: schema, application on its store, publication, gateway, reactions."""
    from service_runtime.store import ensure_schema, store_env

    ensure_schema(name, settings)
    app = app_class(env=store_env(name, settings))
    return ServiceParts(
        name=name, app=app, publication=Publication(name, publishes, settings.namespace),
        routers=[router_factory(app)], handlers=handler_factory(app) if handler_factory else {},
        consumes=consumes,
    )


def group_for(service: str, namespace: str = "") -> str:
    return f"{namespace + '.' if namespace else ''}kongfu.{service}"


def make_event_log(settings: Settings, client_id: str = "kongfu") -> EventLog:
    if settings.mode == "stack":
        return KafkaEventLog(settings.kafka_bootstrap, settings.topic_partitions, client_id=client_id,
                             namespace=settings.namespace)
    return LocalEventLog(settings.var_dir / "eventlog.sqlite")


def background_tasks(parts: ServiceParts, event_log: EventLog, roles: Sequence[str], settings: Settings) -> list:
    tasks = []
    if "relay" in roles:
        relay = OutboxRelay(parts.app, parts.publication, event_log, settings.relay_batch_size)
        tasks.append(relay.run)
    if "worker" in roles and parts.handlers:
        runner = ConsumerRunner(parts.name, parts.app, event_log, [topic_for(s, settings.namespace) for s in parts.consumes],
                                parts.handlers, group=group_for(parts.name, settings.namespace))
        tasks.append(runner.run)
    return tasks


def build_gateway(all_parts: Sequence[ServiceParts], roles: Sequence[str], settings: Settings,
                  title: str) -> FastAPI:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {', '.join(ROLES)}")
    event_log = make_event_log(settings, client_id=title)
    tasks: list[Any] = []
    routers: list[APIRouter] = []
    for parts in all_parts:
        tasks += background_tasks(parts, event_log, roles, settings)
        if "api" in roles:
            routers += parts.routers

    async def store_reachable() -> None:
        for parts in all_parts:
            await asyncio.to_thread(parts.app.recorder.max_notification_id)

    async def close() -> None:
        await event_log.stop()
        for parts in all_parts:
            parts.app.close()

    async def run_all(stop: asyncio.Event) -> None:
        await event_log.start()  # topics exist before any consumer subscribes
        await asyncio.gather(*(task(stop) for task in tasks))

    return create_app(title, routers, metrics_label=title, readiness=[store_reachable],
                      background=[run_all] if tasks else [], on_shutdown=[close])

"""Running services: a service's parts, its process roles, and the gateway that hosts them.

Roles: `api` (the HTTP gateway), `relay` (outbox → Kafka), `worker` (consumers), `projector`,
`scheduler` (fires the service's due timers, see `timers.py`), `streams` (a service's stream
processing app on Kafka, stack mode only: fraud's faust-streaming velocity agents). Every process serves /healthz,
/readyz and /metrics, whichever roles it runs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from fastapi import APIRouter, FastAPI

from service_runtime import database, wakeup
from service_runtime.clock import SYSTEM_CLOCK, Clock, OffsetFileClock
from service_runtime.consumer import ConsumerRunner, Handler
from service_runtime.eventlog import EventLog, topic_for
from service_runtime.following import follow
from service_runtime.kafka_log import KafkaEventLog
from service_runtime.local_log import LocalEventLog
from service_runtime.http import create_app
from service_runtime.projections import Projection, ProjectionStore
from service_runtime.projectors import ProjectorRunner
from service_runtime.publishing import Publication
from service_runtime.relay import OutboxRelay
from service_runtime.settings import Settings
from service_runtime.store import ServiceApplication
from service_runtime.timers import FireHandler, TimerScheduler

ROLES = ("api", "relay", "worker", "projector", "scheduler", "streams")


@dataclass(frozen=True)
class StreamsRole:
    """A service's stream processing app, run by its `streams` role in stack mode."""

    run: Any  # async (stop: asyncio.Event) -> None
    topic: str  # the contract topic it publishes on (without namespace)
    event_types: tuple[str, ...]  # the contract events it publishes there
    sources: tuple[str, ...]  # the topics it reads
    internal_topics: tuple[str, ...]  # its re-keying topics (same partitions as the event topics)
    changelog_topics: tuple[str, ...]  # its tables' changelogs (compacted)
    group: str  # its consumer group


@dataclass
class ServiceParts:
    name: str
    app: ServiceApplication
    publication: Publication
    routers: list[APIRouter]
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    consumes: Sequence[str] = ()  # services whose topics this one reads
    projections: Sequence[Projection] = ()
    projection_store: ProjectionStore | None = None
    timers: Mapping[str, FireHandler] = field(default_factory=dict)  # timer purpose -> fire handler
    worker_tasks: Sequence[Any] = ()  # more loops of the worker role (e.g. the notification dispatcher)
    streams: StreamsRole | None = None  # the `streams` role (stack mode): a stream processing app on Kafka


def assemble(name: str, app_class: type[ServiceApplication], publishes: Mapping[type, Any], settings: Settings,
             router_factory: Any, handler_factory: Any = None, consumes: Sequence[str] = (),
             projections: Sequence[Projection] = (), projection_router: Any = None,
             timer_factory: Any = None, public_routers: Sequence[Any] = ()) -> ServiceParts:
    """The usual bootstrap: schema, application on its store, publication, gateway, reactions,
    and the projections this service owns (with the router that reads them)."""
    from service_runtime.store import ensure_schema, schema_for, store_env

    ensure_schema(name, settings)
    app = app_class(env=store_env(name, settings))
    app.clock = clock_for(settings)
    store = ProjectionStore(settings, schema_for(name, settings), name) if projections else None
    routers = [router_factory(app)] + [extra() for extra in public_routers]
    if projection_router is not None:
        routers.append(projection_router(store))
    return ServiceParts(
        name=name, app=app, publication=Publication(name, publishes, settings.namespace),
        routers=routers, handlers=handler_factory(app) if handler_factory else {},
        consumes=consumes, projections=projections, projection_store=store,
        timers=timer_factory(app) if timer_factory else {},
    )


def clock_for(settings: Settings) -> Clock:
    return OffsetFileClock(settings.clock_offset_file) if settings.clock_offset_file else SYSTEM_CLOCK


def projection_topics(projection: Projection, settings: Settings) -> list[str]:
    return [topic_for(s, settings.namespace) for s in projection.sources]


def group_for(service: str, namespace: str = "") -> str:
    return f"{namespace + '.' if namespace else ''}kongfu.{service}"


def projector_group(service: str, namespace: str = "") -> str:
    """The consumer group of a service's projector (its projections share one consumer)."""
    return f"{group_for(service, namespace)}.projection.all"


def shared_group(service: str, namespace: str = "") -> str:
    """The consumer group of a process running both the worker and the projector of a service: a
    group of its own (a worker-only process in `group_for`'s group must not be handed partitions
    the projector needs), inside the projector's prefix, which the service's Kafka user may read."""
    return f"{projector_group(service, namespace).rsplit('.', 1)[0]}.with-worker"


def make_event_log(settings: Settings, client_id: str = "kongfu") -> EventLog:
    if settings.mode == "stack":
        return KafkaEventLog(settings.kafka_bootstrap, settings.topic_partitions, client_id=client_id,
                             namespace=settings.namespace, security=settings.kafka_security())
    return LocalEventLog(settings.var_dir / "eventlog.sqlite")


def background_tasks(parts: ServiceParts, event_log: EventLog, roles: Sequence[str], settings: Settings) -> list:
    tasks = []
    if "relay" in roles:
        relay = OutboxRelay(parts.app, parts.publication, event_log, settings.relay_batch_size,
                            exit_after_publish=settings.chaos_relay_exit_after_publish)
        tasks.append(relay.run)
    followers = []
    if "worker" in roles and parts.handlers:
        runner = ConsumerRunner(parts.name, parts.app, event_log, [topic_for(s, settings.namespace) for s in parts.consumes],
                                parts.handlers, group=group_for(parts.name, settings.namespace))
        followers.append(runner)
    if "projector" in roles and parts.projections:  # one consumer for all of the service's projections
        followers.append(ProjectorRunner([(p, projection_topics(p, settings)) for p in parts.projections],
                                         parts.projection_store, event_log, projector_group(parts.name, settings.namespace)))
    if len(followers) == 2:  # one process runs both: one consumer feeds them (see following.py)
        group = shared_group(parts.name, settings.namespace)

        async def follow_both(stop: asyncio.Event) -> None:
            await follow(event_log, group, [part.follower() for part in followers], stop)

        tasks.append(follow_both)
    else:
        tasks += [part.run for part in followers]
    if "worker" in roles:
        tasks += list(parts.worker_tasks)
    if "scheduler" in roles and parts.timers:
        tasks.append(TimerScheduler(parts.app, parts.timers, parts.app.clock, parts.name).run)
    if "streams" in roles and parts.streams is not None and settings.mode == "stack":
        tasks.append(parts.streams.run)
    if tasks and settings.mode == "stack" and set(roles) & {"relay", "scheduler", "worker"}:
        tasks.append(store_listener(parts.app, settings))
    return tasks


def store_listener(app: ServiceApplication, settings: Settings) -> Any:
    """Wakes this process's loops (relay, scheduler, dispatchers) on the NOTIFY the recorder
    sends with every insert, so a save in another process is published without polling."""
    channel = app.recorder.channel_name

    async def listen_for_saves(stop: asyncio.Event) -> None:
        await wakeup.listen(settings.pg_dsn, channel, app.new_events, stop)

    return listen_for_saves


def find_projection(all_parts: Sequence[ServiceParts], name: str) -> tuple[ServiceParts, Projection]:
    for parts in all_parts:
        for projection in parts.projections:
            if projection.name == name:
                return parts, projection
    known = [p.name for parts in all_parts for p in parts.projections]
    raise KeyError(f"no projection '{name}'; projections: {', '.join(known)}")


def admin_router(all_parts: Sequence[ServiceParts]) -> APIRouter:
    from fastapi import Depends

    from service_runtime.auth import AUDITOR
    from service_runtime.errors import NotFound
    from service_runtime.http import require_roles

    router = APIRouter(prefix="/admin", tags=["operations"])

    @router.get("/projections/{name}/checksum")
    def checksum(name: str, _=Depends(require_roles(AUDITOR))):
        try:
            parts, projection = find_projection(all_parts, name)
        except KeyError as exc:
            raise NotFound(str(exc)) from exc
        digest, rows = parts.projection_store.checksum(projection.name)
        return {"projection": name, "checksum": digest, "rows": rows}

    return router


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
    if "api" in roles and any(parts.projections for parts in all_parts):
        routers.append(admin_router(all_parts))

    async def store_reachable() -> None:
        if settings.mode == "stack":  # a fresh connection, so an outage shows at once
            await asyncio.to_thread(database.ping, settings.pg_dsn)
            return
        for parts in all_parts:
            await asyncio.to_thread(parts.app.recorder.max_notification_id)

    async def close() -> None:
        await event_log.stop()
        for parts in all_parts:
            parts.app.close()
            if parts.projection_store is not None:
                parts.projection_store.close()

    async def run_all(stop: asyncio.Event) -> None:
        await event_log.start()  # topics exist before any consumer subscribes
        await asyncio.gather(*(task(stop) for task in tasks))

    relays = [task.__self__ for task in tasks if isinstance(getattr(task, "__self__", None), OutboxRelay)]
    return create_app(title, routers, metrics_label=title, readiness=[store_reachable],
                      background=[run_all] if tasks else [], on_shutdown=[close],
                      degradations=[relay.trouble for relay in relays])

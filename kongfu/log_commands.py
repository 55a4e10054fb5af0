"""`kongfu republish`, `replay`, `checksum` and `analytics`: the commands that read the event
log again, for audits, recovery and analytics."""

from __future__ import annotations

import argparse
import sys

from kongfu.serve_commands import services_registry, settings_for


def cmd_republish(args: argparse.Namespace) -> None:
    """Publish a range of a service's stored events again (consumers skip what they have seen)."""
    import asyncio

    from service_runtime.process import make_event_log
    from service_runtime.relay import OutboxRelay

    settings = settings_for(args.mode)
    parts = services_registry().bootstrap(args.service, settings)
    event_log = make_event_log(settings, client_id=f"republish-{args.service}")

    async def go() -> int:
        await event_log.start()
        try:
            relay = OutboxRelay(parts.app, parts.publication, event_log, settings.relay_batch_size)
            return await relay.republish(args.start, args.stop)
        finally:
            await event_log.stop()

    print(f"re-published {asyncio.run(go())} events of {args.service}")


def _projection(name: str, settings):
    from service_runtime.process import find_projection

    all_parts = [services_registry().bootstrap(service, settings) for service in services_registry().SERVICES]
    try:
        return find_projection(all_parts, name)
    except KeyError as exc:
        raise SystemExit(str(exc)) from exc


def cmd_replay(args: argparse.Namespace) -> None:
    """Rebuild a projection from offset 0 of its topics into new tables and swap it in when done
    (or, with --until, build it as it was at that time, beside the live one); print its checksum."""
    import asyncio
    import json

    from tqdm import tqdm

    from service_runtime.heap import settle_after_startup
    from service_runtime.process import make_event_log, projection_topics
    from service_runtime.projections import REBUILD
    from service_runtime.replay import as_of_label, rebuild

    settings = settings_for(args.mode)
    parts, projection = _projection(args.projection, settings)
    event_log = make_event_log(settings, client_id=f"replay-{projection.name}")
    bar = tqdm(desc=f"replaying {projection.name}", unit="event", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    async def go():
        await event_log.start()
        try:
            return await rebuild(projection, parts.projection_store, event_log,
                                 projection_topics(projection, settings), progress, until=args.until,
                                 optimistic_catch_ups=settings.replay_optimistic_catch_ups)
        finally:
            await event_log.stop()

    settle_after_startup()
    checksum, rows = asyncio.run(go())
    bar.close()
    if args.until is None:
        print(f"{projection.name}: {rows} rows, checksum {checksum}")
        return
    label = as_of_label(projection.name, args.until)
    print(f"{projection.name} as of {args.until.isoformat()}: {rows} rows, checksum {checksum}")
    for key in args.key:
        view = projection.view(key, parts.projection_store.entries(label, key, REBUILD))
        print(json.dumps(view, ensure_ascii=False, sort_keys=True, default=str))


def timestamp(text: str):
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # naive means UTC


def cmd_checksum(args: argparse.Namespace) -> None:
    settings = settings_for(args.mode)
    parts, projection = _projection(args.projection, settings)
    checksum, rows = parts.projection_store.checksum(projection.name)
    print(f"{projection.name}: {rows} rows, checksum {checksum}")


def cmd_analytics(args: argparse.Namespace) -> None:
    """Export the topics' new events as Parquet tables per event type (incremental)."""
    import asyncio
    from pathlib import Path

    from kongfu.analytics import export
    from service_runtime.process import make_event_log

    settings = settings_for(args.mode)
    event_log = make_event_log(settings, client_id="analytics-export")

    async def go():
        await event_log.start()
        try:
            return await export(event_log, list(services_registry().SERVICES), Path(args.out), settings.namespace)
        finally:
            await event_log.stop()

    result = asyncio.run(go())
    for event_type, count in result["written"].items():
        print(f"{event_type}: {count} new events")
    print(f"exported {sum(result['written'].values())} events to {args.out} "
          f"({result['refused']} refused by their contract, left to the dead-letter topics)")

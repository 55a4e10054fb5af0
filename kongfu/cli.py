"""`kongfu`: operator commands (run, serve, token, contracts)."""

from __future__ import annotations

import argparse
import os
import sys


def _settings(mode: str | None = None):
    from service_runtime.settings import get_settings

    if mode:
        os.environ["KONGFU_MODE"] = mode
        get_settings.cache_clear()
    return get_settings()


def cmd_run(args: argparse.Namespace) -> None:
    """Embedded default: every service in one process, SQLite under var/, in-process event log."""
    settings = _settings("embedded")
    _serve(list(_registry().SERVICES), ["api", "relay", "worker", "projector", "scheduler"], args.host, args.port,
           settings, title="kongfu-embedded", fake_stripe=args.fake_providers, with_portal=True)


def cmd_serve(args: argparse.Namespace) -> None:
    settings = _settings(args.mode)
    roles = [r for r in args.roles.split(",") if r]
    port = args.port or _registry().DEFAULT_PORTS[args.services[0]] + (0 if "api" in roles else 100)
    _serve(args.services, roles, args.host, port, settings, title="-".join(args.services),
           fake_stripe=args.fake_providers)


def cmd_portal(args: argparse.Namespace) -> None:
    """The customer portal on its own, reading the gateways KONGFU_PORTAL_GATEWAYS names (the
    stack: `orders=http://...,warehouse=http://...`); it keeps no data and joins no topic."""
    from kongfu.portal.gateways import configured_urls
    from kongfu.portal.web import router as portal_router
    from service_runtime.http import create_app
    from service_runtime.logs import configure_logging
    from service_runtime.serving import serve

    settings = _settings()
    configure_logging(settings.log_level)
    app = create_app("portal", [portal_router()], metrics_label="portal")
    gateways = ", ".join(f"{name} at {url}" for name, url in sorted(configured_urls().items())) or "none configured"
    print(f"kongfu: portal listening on http://{args.host}:{args.port}/portal (gateways: {gateways})", flush=True)
    serve(app, args.host, args.port, log_level="warning")


# How long the server keeps an idle keep-alive connection open. Longer than clients keep theirs
# (httpx 5 s, browsers and load balancers up to ~60 s): with uvicorn's default of 5 s, a client
# reusing a connection at the moment the server closed it got "Server disconnected without
# sending a response" (seen in `make bench`).
KEEP_ALIVE_SECONDS = 75


def _registry():
    from kongfu import registry

    return registry


def _serve(names, roles, host, port, settings, title, fake_stripe=False, with_portal=False):
    from service_runtime.logs import configure_logging
    from service_runtime.process import build_gateway
    from service_runtime.serving import serve

    configure_logging(settings.log_level)
    if fake_stripe and "payments" in names:
        settings = _with_fake_stripe(settings, host, port)
        settings = _with_fake_paypal(settings, host, port)
    parts = [_registry().bootstrap(name, settings) for name in names]
    app = build_gateway(parts, roles, settings, title=title)
    if with_portal:  # the customer portal at /portal, reading this same server's gateways
        from kongfu.portal.web import router as portal_router

        app.include_router(portal_router())
    print(f"kongfu: {title} ({settings.mode}, roles {','.join(roles)}) listening on http://{host}:{port} "
          f"(OpenAPI docs at http://{host}:{port}/docs)", flush=True)
    # uvloop and httptools: the C event loop and HTTP parser (less CPU per request than asyncio and h11)
    serve(app, host, port, log_level="warning", loop="uvloop", http="httptools",
          timeout_keep_alive=KEEP_ALIVE_SECONDS)


def _with_fake_stripe(settings, host, port):
    """For demos without a Stripe account: the named Stripe fake, in this process, sending its
    signed webhooks to this process's payments gateway."""
    from services.payments.providers.fake_stripe import FakeStripe

    fake = FakeStripe(settings.resolved_stripe_webhook_secret(),
                      f"http://{host}:{port}/payments/webhooks/stripe").start()
    print(f"kongfu: payments uses the FAKE Stripe on {fake.url} (test tokens such as pm_card_visa)", flush=True)
    return settings.model_copy(update={"stripe_api_base": fake.url})


def _with_fake_paypal(settings, host, port):
    """The named PayPal fake, in this process, with its own test key; it signs webhooks to this
    process's payments gateway (approve at the `approve_url` a PayPal payment answers with)."""
    from services.payments.providers.fake_paypal import FakePayPal

    client_id, webhook_id = "kongfu-local-paypal", "WH-KONGFU-LOCAL"
    secret = settings.paypal_client_secret or settings._local_secret("dev-paypal-client-secret")
    fake = FakePayPal(client_id, secret, webhook_id, f"http://{host}:{port}/payments/webhooks/paypal").start()
    print(f"kongfu: payments uses the FAKE PayPal on {fake.url}", flush=True)
    return settings.model_copy(update={"paypal_api_base": fake.url, "paypal_client_id": client_id,
                                       "paypal_client_secret": secret, "paypal_webhook_id": webhook_id})


def cmd_republish(args: argparse.Namespace) -> None:
    """Publish a range of a service's stored events again (consumers skip what they have seen)."""
    import asyncio

    from service_runtime.process import make_event_log
    from service_runtime.relay import OutboxRelay

    settings = _settings(args.mode)
    parts = _registry().bootstrap(args.service, settings)
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

    all_parts = [_registry().bootstrap(service, settings) for service in _registry().SERVICES]
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

    settings = _settings(args.mode)
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


def _timestamp(text: str):
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # naive means UTC


def cmd_checksum(args: argparse.Namespace) -> None:
    settings = _settings(args.mode)
    parts, projection = _projection(args.projection, settings)
    checksum, rows = parts.projection_store.checksum(projection.name)
    print(f"{projection.name}: {rows} rows, checksum {checksum}")


def cmd_token(args: argparse.Namespace) -> None:
    from service_runtime.auth import issue_token

    settings = _settings()
    print(issue_token(settings.resolved_jwt_secret(), args.sub, args.role, issuer=settings.jwt_issuer,
                      ttl_seconds=args.ttl))


def cmd_forget(args: argparse.Namespace) -> None:
    from pydantic import ValidationError

    from kongfu.namespaces import forget_namespace
    from service_runtime.settings import Settings

    try:
        settings = Settings(mode="stack", namespace=args.namespace)
    except ValidationError:
        sys.exit(f"not a namespace: {args.namespace!r} (lower-case letters, digits and _, at most 20)")
    try:
        topics, schemas = forget_namespace(settings)
    except ValueError as refused:  # the platform's own (an empty namespace)
        sys.exit(str(refused))
    print(f"{settings.namespace}: {len(topics)} topics deleted, {len(schemas)} schemas dropped")


def cmd_contracts(args: argparse.Namespace) -> None:
    from contracts import schemas
    from kongfu import asyncapi

    if args.action == "export":
        for path in [*schemas.export(), asyncapi.export()]:
            print(path)
    else:
        problems = schemas.check() + asyncapi.stale()
        for problem in problems:
            print(problem, file=sys.stderr)
        sys.exit(1 if problems else 0)


def cmd_k8s(args: argparse.Namespace) -> None:
    from kongfu import k8s

    if args.action == "generate":
        for path in k8s.generate():
            print(path)
    else:
        problems = k8s.stale()
        for problem in problems:
            print(problem, file=sys.stderr)
        sys.exit(1 if problems else 0)


def cmd_analytics(args: argparse.Namespace) -> None:
    """Export the topics' new events as Parquet tables per event type (incremental)."""
    import asyncio
    from pathlib import Path

    from kongfu.analytics import export
    from service_runtime.process import make_event_log

    settings = _settings(args.mode)
    event_log = make_event_log(settings, client_id="analytics-export")

    async def go():
        await event_log.start()
        try:
            return await export(event_log, list(_registry().SERVICES), Path(args.out), settings.namespace)
        finally:
            await event_log.stop()

    result = asyncio.run(go())
    for event_type, count in result["written"].items():
        print(f"{event_type}: {count} new events")
    print(f"exported {sum(result['written'].values())} events to {args.out} "
          f"({result['refused']} refused by their contract, left to the dead-letter topics)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kongfu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="the embedded default: all services in one process")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--fake-providers", "--fake-stripe", dest="fake_providers", action="store_true",
                     help="pay through the local Stripe and PayPal fakes (demos)")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="run services (one process) on the local stack or embedded")
    serve.add_argument("services", nargs="+")
    serve.add_argument("--roles", default="api,relay,worker,projector,scheduler,streams",
                       help="comma list of api, relay, worker, projector, scheduler, streams")
    serve.add_argument("--mode", choices=["embedded", "stack"], default=None)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--fake-providers", "--fake-stripe", dest="fake_providers", action="store_true",
                     help="pay through the local Stripe and PayPal fakes (demos)")
    serve.set_defaults(func=cmd_serve)

    portal = sub.add_parser("portal", help="the customer portal alone, reading the stack's gateways")
    portal.add_argument("--host", default="127.0.0.1")
    portal.add_argument("--port", type=int, default=8009)
    portal.set_defaults(func=cmd_portal)

    republish = sub.add_parser("republish", help="publish a range of a service's stored events again")
    republish.add_argument("service")
    republish.add_argument("--from", dest="start", type=int, default=1, help="first notification id")
    republish.add_argument("--to", dest="stop", type=int, default=None, help="last notification id")
    republish.add_argument("--mode", choices=["embedded", "stack"], default=None)
    republish.set_defaults(func=cmd_republish)

    replay = sub.add_parser("replay", help="rebuild a projection from the topics and swap it in; print its checksum")
    replay.add_argument("projection", help="timeline, traceability, compensation_decisions or parcels")
    replay.add_argument("--until", type=_timestamp, default=None,
                        help="ISO time (UTC if no offset): the projection as it was then, built beside the live one")
    replay.add_argument("--key", action="append", default=[],
                        help="with --until: print this key's view as it was (repeat for more)")
    replay.add_argument("--mode", choices=["embedded", "stack"], default=None)
    replay.set_defaults(func=cmd_replay)

    checksum = sub.add_parser("checksum", help="print the checksum of a projection as it stands")
    checksum.add_argument("projection")
    checksum.add_argument("--mode", choices=["embedded", "stack"], default=None)
    checksum.set_defaults(func=cmd_checksum)

    chaos = sub.add_parser("chaos", add_help=False,
                           help="full lifecycles on the local stack under a fault schedule, then a verdict")
    chaos.set_defaults(func=lambda args: __import__("kongfu.chaos").chaos.main(args.chaos_args))

    forget = sub.add_parser("forget", help="delete a namespace's topics and schemas on the local stack "
                                           "(what a bench, chaos run or test left)")
    forget.add_argument("namespace")
    forget.set_defaults(func=cmd_forget)

    token = sub.add_parser("token", help="issue a development bearer token from the local secret")
    token.add_argument("--sub", required=True, help="subject (customer id or staff id)")
    token.add_argument("--role", action="append", required=True, help="a role; repeat for more")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    token.set_defaults(func=cmd_token)

    contracts = sub.add_parser("contracts", help="export or check the JSON Schemas of the event contracts")
    contracts.add_argument("action", choices=["export", "check"])
    contracts.set_defaults(func=cmd_contracts)

    analytics = sub.add_parser("analytics", help="export the topics as Parquet tables per event type")
    analytics.add_argument("action", choices=["export"])
    analytics.add_argument("--out", default="var/analytics", help="folder of the tables and the position")
    analytics.add_argument("--mode", choices=["embedded", "stack"], default=None)
    analytics.set_defaults(func=cmd_analytics)

    kube = sub.add_parser("k8s", help="write (or check) the cluster manifests generated from the services")
    kube.add_argument("action", choices=["generate", "check"])
    kube.set_defaults(func=cmd_k8s)

    args, rest = parser.parse_known_args(argv)
    if args.command != "chaos" and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.chaos_args = rest
    args.func(args)


if __name__ == "__main__":
    main()

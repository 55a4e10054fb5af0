"""`kongfu`: the operator's commands. The platform's processes (run, serve, portal) are in
`kongfu/serve_commands.py`, the commands that read the event log again (republish, replay,
checksum, analytics) in `kongfu/log_commands.py`; token, forget, contracts and k8s are here."""

from __future__ import annotations

import argparse
import sys

from kongfu.log_commands import cmd_analytics, cmd_checksum, cmd_replay, cmd_republish, timestamp
from kongfu.serve_commands import cmd_portal, cmd_run, cmd_serve, settings_for


def cmd_token(args: argparse.Namespace) -> None:
    from service_runtime.auth import issue_token

    settings = settings_for()
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
        forgotten = forget_namespace(settings)
    except ValueError as refused:  # the platform's own (an empty namespace)
        sys.exit(str(refused))
    print(f"{settings.namespace} forgotten: {forgotten}")


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
    replay.add_argument("--until", type=timestamp, default=None,
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

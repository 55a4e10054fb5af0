"""`kongfu run`, `kongfu serve` and `kongfu portal`: the platform's processes, and the settings
and services every command starts from."""

from __future__ import annotations

import argparse
import os


def settings_for(mode: str | None = None):
    from service_runtime.settings import get_settings

    if mode:
        os.environ["KONGFU_MODE"] = mode
        get_settings.cache_clear()
    return get_settings()


def services_registry():
    """Imported when a command needs the services (the platform's modules are heavy to load)."""
    from kongfu import registry

    return registry


def cmd_run(args: argparse.Namespace) -> None:
    """Embedded default: every service in one process, SQLite under var/, in-process event log."""
    settings = settings_for("embedded")
    _serve(list(services_registry().SERVICES), ["api", "relay", "worker", "projector", "scheduler"], args.host,
           args.port, settings, title="kongfu-embedded", fake_stripe=args.fake_providers, with_portal=True)


def cmd_serve(args: argparse.Namespace) -> None:
    settings = settings_for(args.mode)
    roles = [r for r in args.roles.split(",") if r]
    port = args.port or services_registry().DEFAULT_PORTS[args.services[0]] + (0 if "api" in roles else 100)
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

    settings = settings_for()
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


def _serve(names, roles, host, port, settings, title, fake_stripe=False, with_portal=False):
    from service_runtime.logs import configure_logging
    from service_runtime.process import build_gateway
    from service_runtime.serving import serve

    configure_logging(settings.log_level)
    if fake_stripe and "payments" in names:
        settings = _with_fake_stripe(settings, host, port)
        settings = _with_fake_paypal(settings, host, port)
    parts = [services_registry().bootstrap(name, settings) for name in names]
    app = build_gateway(parts, roles, settings, title=title)
    if with_portal:  # the customer portal at /portal, reading this same server's gateways
        from kongfu.portal.web import router as portal_router
        from service_runtime.http import add_routes

        add_routes(app, portal_router())
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

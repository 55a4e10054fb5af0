"""The rule for `@on_loop` (service_runtime/on_loop.py, docs/design.md): only short work in the
service's own store runs on the event loop. Every route of every service is checked: none that
calls the outside world (payment providers, the notification channels, photo uploads) and none
that takes an uploaded body runs on the loop, and the lifecycle's store-only routes do."""

import inspect

import pytest
from fastapi import UploadFile
from fastapi.routing import APIRoute

from kongfu.registry import SERVICES, bootstrap
from service_runtime.settings import Settings
from tests.support import CARRIER_SECRET, JWT_SECRET

# Modules whose routes reach past the service's store: they keep their worker thread.
CALLS_OUT = ("services.payments.", "services.notifications.", "services.warehouse.photos")


@pytest.fixture(scope="module")
def routes(tmp_path_factory) -> list[tuple[str, APIRoute]]:
    settings = Settings(mode="embedded", var_dir=tmp_path_factory.mktemp("var"), jwt_secret=JWT_SECRET,
                        carrier_webhook_secret=CARRIER_SECRET)
    found = []
    for name in SERVICES:
        for router in bootstrap(name, settings).routers:
            found += [(name, route) for route in router.routes if isinstance(route, APIRoute)]
    return found


def on_the_loop(route: APIRoute) -> bool:
    return getattr(route.endpoint, "runs_on_loop", False)


def test_no_route_that_calls_the_outside_world_or_takes_an_upload_runs_on_the_loop(routes):
    on_loop = [route for _, route in routes if on_the_loop(route)]
    calling_out = [route.path for route in on_loop if inspect.unwrap(route.endpoint).__module__.startswith(CALLS_OUT)]
    uploads = [route.path for route in on_loop
               if any(p.annotation in (UploadFile, bytes, list[UploadFile])
                      for p in inspect.signature(inspect.unwrap(route.endpoint)).parameters.values())]
    assert calling_out == [] and uploads == []


def test_the_lifecycle_s_store_only_routes_run_on_the_loop(routes):
    on_loop = {(service, route.path) for service, route in routes if on_the_loop(route)}
    for expected in (("orders", "/orders"), ("warehouse", "/warehouse/inbound"), ("claims", "/claims")):
        assert expected in on_loop, sorted(on_loop)
    assert not any(service in ("payments", "notifications") for service, _ in on_loop)

"""What every request carries through a gateway: a correlation id, its caller, its timing.

A pure ASGI middleware (no `BaseHTTPMiddleware`: that one wraps every request in a task group
and memory streams, half of a `GET /healthz`'s server CPU). The bearer token is verified once
here; `http.current_caller` takes the result from the scope instead of verifying it again.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Awaitable, Callable

from service_runtime.auth import AuthError, Caller, verify_token
from service_runtime.metrics import HTTP_LATENCY
from service_runtime.problems import KNOWN_METHODS
from service_runtime.settings import get_settings
from service_runtime.tracing import trace

CALLER_KEY = "kongfu.caller"  # scope key: (token, Caller or AuthError)

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def verified(token: str) -> Caller | AuthError:
    settings = get_settings()
    try:
        return verify_token(settings.resolved_jwt_secret(), token, issuer=settings.jwt_issuer)
    except AuthError as exc:
        return exc


def caller_of(scope: Scope, token: str) -> Caller:
    """The caller for `token`, verified once per request; AuthError if the token is refused."""
    known = scope.get(CALLER_KEY)
    result = known[1] if known is not None and known[0] == token else verified(token)
    scope[CALLER_KEY] = (token, result)
    if isinstance(result, AuthError):
        raise result
    return result


def actor_of(caller: Caller) -> str:
    """Who is calling, for the events this request causes (authorisation happens in the route)."""
    role = sorted(caller.roles)[0] if len(caller.roles) == 1 else "staff" if caller.is_staff else "customer"
    return f"{role}:{caller.subject}"


class CorrelateAndTime:
    """Correlation id (from `X-Correlation-Id` or new) and actor in the trace scope, the id echoed
    on the response, and the request's latency by route and status."""

    def __init__(self, app: ASGIApp, metrics_label: str) -> None:
        self.app, self.metrics_label = app, metrics_label

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id, authorization = None, ""
        for name, value in scope["headers"]:
            if name == b"x-correlation-id":
                correlation_id = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
        correlation_id = correlation_id or str(uuid.uuid4())
        actor = None
        scheme, _, token = authorization.partition(" ")  # as FastAPI's HTTPBearer splits it
        if scheme.lower() == "bearer" and token:
            try:
                actor = actor_of(caller_of(scope, token))
            except AuthError:
                pass  # the route's dependency answers 401
        started = time.perf_counter()
        status = 500
        echoed = (b"x-correlation-id", correlation_id.encode("latin-1"))

        async def send_with_id(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            with trace(correlation_id=correlation_id, actor=actor):
                await self.app(scope, receive, send_with_id)
        finally:
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"  # callers cannot add series
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_LATENCY.labels(self.metrics_label, method, route, str(status)).observe(time.perf_counter() - started)

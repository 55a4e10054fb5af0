"""Published rule sets: `GET /rules/<name>` for each, readable without a token (customers read
the rules before they buy). Each service lists its own; the gateway serves them side by side."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from fastapi import APIRouter


def rules_router(rule_sets: Mapping[str, tuple[Callable[[], dict[str, Any]], str]]) -> APIRouter:
    """`rule_sets` maps a name to (a function giving the versioned rules, a one-line summary)."""
    api = APIRouter(prefix="/rules", tags=["rules"])
    for name, (published, summary) in rule_sets.items():
        api.add_api_route(f"/{name}", _endpoint(published), methods=["GET"], summary=summary,
                          name=f"rules_{name.replace('-', '_')}")
    return api


def _endpoint(published: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    def read() -> dict[str, Any]:
        return published()

    return read

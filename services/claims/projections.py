"""Compensation decisions: every claim with its inputs, the decision, the rule and its version."""

from __future__ import annotations

from typing import Any, Iterable
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from contracts import Envelope, EventPayload
from service_runtime.auth import AUDITOR, CUSTOMER, SUPPORT_AGENT, Caller
from service_runtime.listing import PageParams, page, page_model, page_params, views
from service_runtime.errors import NotFound
from service_runtime.http import current_caller, require_roles
from service_runtime.clock import utc_timestamp
from service_runtime.projections import Entry, Projection, ProjectionStore
from services.claims.domain import decision_for_customer


def decision_entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
    if envelope.type not in ("claims.ClaimOpened", "claims.CompensationDecided"):
        return []
    data = payload.model_dump(mode="json")
    fact = "opened" if envelope.type == "claims.ClaimOpened" else "decided"
    at = utc_timestamp(envelope.occurred_at)
    return [Entry(data["claim_id"], at, str(envelope.event_id),
                  {"fact": fact, "at": at, "actor": envelope.actor, "event_id": str(envelope.event_id), **data})]


def decision_view(claim_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    opened = next((e for e in entries if e["fact"] == "opened"), None)
    decided = next((e for e in entries if e["fact"] == "decided"), None)
    source = opened or decided or {}
    return {
        "claim_id": claim_id,
        "customer_id": source.get("customer_id"),
        "parcel_id": source.get("parcel_id"),
        "kind": source.get("kind"),
        "claim": opened and {k: opened[k] for k in ("traceability_code", "description", "photos", "at")},
        "decision": decided and {k: decided[k] for k in ("approved", "amount", "currency", "rule", "rule_version",
                                                         "inputs", "decided_by", "notes", "at")},
    }


class ClaimFacts(BaseModel):
    traceability_code: str | None
    description: str
    photos: list[str]
    at: str


class MyClaim(BaseModel):
    claim_id: UUID
    customer_id: str
    parcel_id: UUID | None
    kind: str
    claim: ClaimFacts
    decision: dict[str, Any] | None


COMPENSATION_DECISIONS = Projection(name="compensation_decisions", sources=("claims",),
                                    entries=decision_entries, view=decision_view)


def router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/compensation-decisions", tags=["claims"])
    mine = APIRouter(prefix="/me", tags=["claims"])

    @mine.get("/claims", response_model=page_model(MyClaim))
    def my_claims(request: Request, params: PageParams = Depends(page_params),
                  caller: Caller = Depends(require_roles(CUSTOMER))):
        """My claims, newest first, each with its decision and the rule behind it once decided."""
        rows = (view for view in views(store, COMPENSATION_DECISIONS.name, decision_view)
                if view["customer_id"] == caller.subject and view["claim"])
        customer_rows = ({**v, "decision": v["decision"] and decision_for_customer(v["decision"])} for v in rows)
        return page(customer_rows, lambda v: [v["claim"]["at"], v["claim_id"]], params, request)

    @api.get("")
    def all_decisions(_: Caller = Depends(require_roles(SUPPORT_AGENT, AUDITOR))) -> list[dict[str, Any]]:
        return [decision_view(key, entries)
                for key, entries in store.entries_by_key(COMPENSATION_DECISIONS.name).items()]

    @api.get("/{claim_id}")
    def one_decision(claim_id: UUID, caller: Caller = Depends(current_caller)) -> dict[str, Any]:
        view = decision_view(str(claim_id), store.entries(COMPENSATION_DECISIONS.name, str(claim_id)))
        if view["customer_id"] is None or not caller.can_read_customer_data(view["customer_id"],
                                                                             SUPPORT_AGENT, AUDITOR):
            raise NotFound(f"no claim {claim_id}")
        if view["decision"] and not caller.is_staff:
            view["decision"] = decision_for_customer(view["decision"])
        return view

    both = APIRouter()
    both.include_router(api)
    both.include_router(mine)
    return both

"""Compensation decisions: every claim with its inputs, the decision, the rule and its version."""

from __future__ import annotations

from typing import Any, Iterable
from uuid import UUID

from fastapi import APIRouter, Depends

from contracts import Envelope, EventPayload
from service_runtime.auth import AUDITOR, SUPPORT_AGENT, Caller
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
        "origin": source.get("origin", "customer"),
        "claim": opened and {k: opened[k] for k in ("traceability_code", "description", "photos", "at")},
        "decision": decided and {k: decided[k] for k in ("approved", "amount", "currency", "rule", "rule_version",
                                                         "inputs", "decided_by", "notes", "explanation_en",
                                                         "explanation_zh", "at")},
    }


COMPENSATION_DECISIONS = Projection(name="compensation_decisions", sources=("claims",),
                                    entries=decision_entries, view=decision_view)


def router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/compensation-decisions", tags=["claims"])

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

    return api

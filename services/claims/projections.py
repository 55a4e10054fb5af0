"""Compensation decisions: every claim with its inputs, the decision, the rule and its version."""

from __future__ import annotations

from typing import Any, Callable, Iterable
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from contracts import Envelope, EventPayload
from service_runtime.auth import AUDITOR, CLAIMS_REVIEWER, CUSTOMER, SUPPORT_AGENT, Caller
from service_runtime.listing import Listing, PageParams, listed_page, page_model, page_params
from service_runtime.errors import NotFound
from service_runtime.http import current_caller, merged_router, require_roles
from service_runtime.clock import utc_timestamp
from service_runtime.projections import Entry, Projection, ProjectionStore
from services.claims.domain import decision_for_customer


STAFF_READERS = (SUPPORT_AGENT, CLAIMS_REVIEWER, AUDITOR)
DECISION_FACTS = {"claims.ClaimOpened": "opened", "claims.CompensationDecided": "decided",
                  "claims.DisputeOpened": "disputed", "claims.DisputeResolved": "dispute_resolved"}
DECISION_FIELDS = ("approved", "amount", "currency", "rule", "rule_version", "inputs", "decided_by", "notes",
                   "explanation_en", "explanation_zh", "at")


def fact_entries(facts: dict[str, str], key_field: str) -> Callable[[Envelope, EventPayload], Iterable[Entry]]:
    """Entries naming which fact each listed event is, under the key its payload names."""
    def entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
        fact = facts.get(envelope.type)
        if fact is None:
            return []
        data = payload.model_dump(mode="json")
        at = utc_timestamp(envelope.occurred_at)
        return [Entry(data[key_field], at, str(envelope.event_id),
                      {"fact": fact, "at": at, "actor": envelope.actor, "event_id": str(envelope.event_id), **data})]

    return entries


decision_entries = fact_entries(DECISION_FACTS, "claim_id")


def decision_fields(decided: dict[str, Any]) -> dict[str, Any]:
    # Entries recorded before decisions were numbered (v2) are each claim's first decision.
    return {**{k: decided[k] for k in DECISION_FIELDS}, "decision_no": decided.get("decision_no", 1)}


def decision_view(claim_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    opened = next((e for e in entries if e["fact"] == "opened"), None)
    decisions = [e for e in entries if e["fact"] == "decided"]
    decided = decisions[0] if decisions else None
    disputed = next((e for e in entries if e["fact"] == "disputed"), None)
    resolved = next((e for e in entries if e["fact"] == "dispute_resolved"), None)
    source = opened or decided or {}
    return {
        "claim_id": claim_id,
        "customer_id": source.get("customer_id"),
        "parcel_id": source.get("parcel_id"),
        "order_ids": source.get("order_ids"),
        "kind": source.get("kind"),
        "origin": source.get("origin", "customer"),
        "claim": opened and {k: opened[k] for k in ("traceability_code", "description", "photos", "at")},
        "decision": decided and decision_fields(decided),
        # A dispute's outcome and what a changed decision added (published as further decisions).
        "dispute": disputed and {"reason": disputed["reason"], "at": disputed["at"],
                                 "outcome": resolved and {k: resolved[k] for k in ("outcome", "approved", "reviewer",
                                                                                   "notes", "at")}},
        "adjustments": [decision_fields(d) for d in decisions[1:]],
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


TICKET_EVENTS = {"claims.TicketOpened": "opened", "claims.TicketAnswered": "answered",
                 "claims.TicketEscalated": "escalated", "claims.TicketClosed": "closed"}


ticket_entries = fact_entries(TICKET_EVENTS, "ticket_id")


def ticket_view(ticket_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    opened = next((e for e in entries if e["fact"] == "opened"), {})
    facts = {e["fact"] for e in entries}
    escalated = next((e for e in entries if e["fact"] == "escalated"), None)
    first_answer = next((e for e in entries if e["fact"] == "answered"), None)
    return {
        "ticket_id": ticket_id, "customer_id": opened.get("customer_id"), "order_id": opened.get("order_id"),
        "topic": opened.get("topic"), "urgent": opened.get("urgent"), "subject": opened.get("subject"),
        "due_at": opened.get("due_at") and utc_timestamp(opened["due_at"]),
        "status": "closed" if "closed" in facts else "answered" if first_answer else "awaiting_answer",
        "escalated_at": escalated and escalated["escalated_at"],
        "answered_within_sla": first_answer and first_answer["within_sla"],
    }


SUPPORT_QUEUE = Projection(name="support_queue", sources=("claims",), entries=ticket_entries, view=ticket_view)


def queue_router(store: ProjectionStore) -> APIRouter:
    queue = APIRouter(prefix="/support", tags=["support"])

    @queue.get("/queue")
    def support_queue(_: Caller = Depends(require_roles(SUPPORT_AGENT))) -> list[dict[str, Any]]:
        """Tickets awaiting their first answer, the most urgent deadline first (escalated ones included)."""
        tickets = [ticket_view(key, entries) for key, entries in store.entries_by_key(SUPPORT_QUEUE.name).items()]
        waiting = [t for t in tickets if t["status"] == "awaiting_answer" and t["due_at"]]
        return sorted(waiting, key=lambda t: (t["due_at"], t["ticket_id"]))

    return queue


CLAIMS_LISTED = Listing(COMPENSATION_DECISIONS.name, owner_field="customer_id", fact="opened")


def router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/compensation-decisions", tags=["claims"])
    mine = APIRouter(prefix="/me", tags=["claims"])

    @mine.get("/claims", response_model=page_model(MyClaim))
    def my_claims(request: Request, params: PageParams = Depends(page_params),
                  caller: Caller = Depends(require_roles(CUSTOMER))):
        """My claims, newest first, each with its decision and the rule behind it once decided."""
        def customer_view(claim_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
            view = decision_view(claim_id, entries)
            return {**view, "decision": view["decision"] and decision_for_customer(view["decision"])}

        return listed_page(store, CLAIMS_LISTED, customer_view, params, request, caller.subject)

    @api.get("")
    def all_decisions(_: Caller = Depends(require_roles(*STAFF_READERS))) -> list[dict[str, Any]]:
        return [decision_view(key, entries)
                for key, entries in store.entries_by_key(COMPENSATION_DECISIONS.name).items()]

    @api.get("/{claim_id}")
    def one_decision(claim_id: UUID, caller: Caller = Depends(current_caller)) -> dict[str, Any]:
        view = decision_view(str(claim_id), store.entries(COMPENSATION_DECISIONS.name, str(claim_id)))
        if view["customer_id"] is None or not caller.can_read_customer_data(view["customer_id"], *STAFF_READERS):
            raise NotFound(f"no claim {claim_id}")
        if view["decision"] and not caller.is_staff:
            view["decision"] = decision_for_customer(view["decision"])
            view["adjustments"] = [decision_for_customer(d) for d in view["adjustments"]]
            if view["dispute"] and view["dispute"]["outcome"]:
                view["dispute"]["outcome"] = {k: v for k, v in view["dispute"]["outcome"].items() if k != "reviewer"}
        return view

    return merged_router(api, mine)


SURVEY_EVENTS = {"claims.SurveyOffered": "offered", "claims.SatisfactionRated": "rated"}
survey_entries = fact_entries(SURVEY_EVENTS, "survey_id")


def survey_view(survey_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    offered = next((e for e in entries if e["fact"] == "offered"), None)
    rated = next((e for e in entries if e["fact"] == "rated"), None)
    source = offered or rated or {}
    return {"survey_id": survey_id, "customer_id": source.get("customer_id"), "order_id": source.get("order_id"),
            "about": source.get("about"), "subject_id": source.get("subject_id"),
            "handled_by": (offered or {}).get("handled_by"), "line_code": (offered or {}).get("line_code"),
            "offered_at": offered and offered["at"], "status": "answered" if rated else "open",
            "rating": rated and rated["rating"], "comment": rated and rated["comment"], "rated_at": rated and rated["at"]}


SATISFACTION_SURVEYS = Projection(name="satisfaction_surveys", sources=("claims",), entries=survey_entries,
                                  view=survey_view)
CUSTOMER_SURVEY_FIELDS = ("survey_id", "order_id", "about", "subject_id", "offered_at")


def averages(surveys: list[dict[str, Any]], group: str) -> dict[str, dict[str, Any]]:
    """Answered surveys per value of `group`: how many, and their average rating to two decimals."""
    ratings: dict[str, list[int]] = {}
    for survey in surveys:
        if survey["rating"] is not None and survey[group] is not None:
            ratings.setdefault(survey[group], []).append(survey["rating"])
    return {key: {"answered": len(values), "average": f"{sum(values) / len(values):.2f}"}
            for key, values in sorted(ratings.items())}


def survey_router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(tags=["support"])

    def all_surveys() -> list[dict[str, Any]]:
        return [survey_view(key, entries) for key, entries in store.entries_by_key(SATISFACTION_SURVEYS.name).items()]

    @api.get("/me/surveys")
    def my_open_surveys(caller: Caller = Depends(require_roles(CUSTOMER))) -> list[dict[str, Any]]:
        """Surveys offered to me and not answered yet, oldest first; answer one with `POST /satisfaction`."""
        mine = [view for view in all_surveys() if view["customer_id"] == caller.subject and view["status"] == "open"]
        return [{k: view[k] for k in CUSTOMER_SURVEY_FIELDS}
                for view in sorted(mine, key=lambda v: (v["offered_at"] or "", v["survey_id"]))]

    @api.get("/satisfaction/summary")
    def satisfaction_summary(_: Caller = Depends(require_roles(*STAFF_READERS))) -> dict[str, Any]:
        """Survey results: how many were offered and answered, and average ratings overall, per
        subject (receipt, claim, ticket), per agent who decided or answered, and per shipping line."""
        surveys = all_surveys()
        answered = [s for s in surveys if s["rating"] is not None]
        return {"offered": sum(1 for s in surveys if s["offered_at"]), "answered": len(answered),
                "average": f"{sum(s['rating'] for s in answered) / len(answered):.2f}" if answered else None,
                "by_about": averages(surveys, "about"), "by_agent": averages(surveys, "handled_by"),
                "by_line": averages(surveys, "line_code")}

    return api

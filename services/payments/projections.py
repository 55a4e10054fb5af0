"""The ledger per customer, rebuilt from the payments topic: every movement of the balance
(top-up, refund, compensation, payment, withdrawal) and every card charge, with its reason,
order and rule version. Pure: only the events' own fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from contracts import Envelope, EventPayload
from service_runtime.auth import CUSTOMER, Caller
from service_runtime.clock import utc_timestamp
from service_runtime.http import require_roles
from service_runtime.projections import Entry, Projection, ProjectionStore

MOVEMENTS = {"payments.BalanceCredited": 1, "payments.BalanceDebited": -1}


def ledger_entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
    data = payload.model_dump(mode="json")
    at = utc_timestamp(envelope.occurred_at)
    if envelope.type in MOVEMENTS:
        sign = MOVEMENTS[envelope.type]
        entry = {"movement_id": data["movement_id"], "kind": data["kind"], "amount": data["amount"],
                 "balance_change": str(Decimal(data["amount"]) * sign), "reason": data["reason"],
                 "order_id": data["order_id"], "rule_version": data["rule_version"], "lines": data.get("lines", [])}
    elif envelope.type == "payments.PaymentSucceeded" and data["method"] != "balance":
        entry = {"movement_id": data["payment_id"], "kind": f"{data['method']}_charge", "amount": data["amount"],
                 "balance_change": "0.00", "reason": f"{data['purpose'].replace('_', ' ')} paid by {data['method']}",
                 "order_id": data["order_id"], "rule_version": None, "lines": data.get("lines", [])}
    elif envelope.type == "payments.SurchargeCharged":
        entry = {"movement_id": f"surcharge-{data['payment_id']}", "kind": f"{data['method']}_surcharge",
                 "amount": data["amount"], "balance_change": "0.00",
                 "reason": f"{data['method']} surcharge on the {data['purpose'].replace('_', ' ')} payment",
                 "order_id": data["order_id"], "rule_version": data["rule_version"], "lines": []}
    else:
        return []
    return [Entry(data["customer_id"], at, str(envelope.event_id),
                  {**entry, "at": at, "currency": data["currency"], "event_id": str(envelope.event_id)})]


def ledger_view(customer_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    balance = sum((Decimal(e["balance_change"]) for e in entries), Decimal("0.00"))
    return {"customer_id": customer_id, "balance": str(balance), "currency": "CNY", "movements": entries}


LEDGER = Projection(name="ledger", sources=("payments",), entries=ledger_entries, view=ledger_view)


class Movement(BaseModel):
    movement_id: str
    kind: str
    amount: Decimal
    balance_change: Decimal
    reason: str
    order_id: str | None
    rule_version: str | None
    lines: list[dict] = []  # a bill's itemised lines (shipping, premium, storage fees, price difference)
    at: str
    currency: str
    event_id: str


class LedgerPage(BaseModel):
    customer_id: str
    balance: Decimal
    currency: str
    total: int
    offset: int
    limit: int
    movements: list[Movement]


def router(store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/me", tags=["payments"])

    @api.get("/ledger", response_model=LedgerPage)
    def ledger(offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=200),
               caller: Caller = Depends(require_roles(CUSTOMER))):
        """Your movements, oldest first; the balance is the sum of every movement."""
        view = ledger_view(caller.subject, store.entries(LEDGER.name, caller.subject))
        return {**view, "total": len(view["movements"]), "offset": offset, "limit": limit,
                "movements": view["movements"][offset:offset + limit]}

    return api

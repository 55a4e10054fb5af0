"""Recalled items that had already left the warehouse: one claim each, opened and decided at once.

The warehouse publishes `warehouse.ItemRecalled` for every item of a defective batch. For an item
already packed (`shipped`, with its parcel) claims opens a `recall` claim on that item, decides it
by the compensation rule book (its `recall` rule, with the rule version) and so pays it to the
customer's balance through `claims.CompensationDecided`. The claim's id derives from the recall
and the item: a redelivered or re-published recall opens nothing more. A recall that arrives
before claims has learnt the item's parcel is remembered and claimed when the packing arrives.
An item already compensated by another claim is not paid twice (the parcel refuses the claim).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from contracts.warehouse import ItemRecalled, ParcelPacked
from service_runtime.errors import DomainError
from service_runtime.tracing import TracedAggregate, stable_id
from services.claims.domain import Claim

RECALL = "recall"


def recalled_item_id(traceability_code: str) -> UUID:
    return stable_id("claims-recalled-item", traceability_code)


class RecalledItem(TracedAggregate):
    """The first recall of an item that had left the warehouse, as claims learnt it."""

    @staticmethod
    def create_id(traceability_code: str, **_: Any) -> UUID:
        return recalled_item_id(traceability_code)

    @event("Noted")
    def __init__(self, traceability_code: str, order_id: UUID, parcel_id: UUID, recall_id: UUID,
                 reason: str) -> None:
        self.traceability_code, self.order_id, self.parcel_id = traceability_code, order_id, parcel_id
        self.recall_id, self.reason = recall_id, reason


class RecallClaims:
    """Mixed into `ClaimsApplication` ahead of `ParcelWatch` (which it extends on packing)."""

    def on_item_recalled(self, payload: ItemRecalled, _envelope: Any) -> list[Any]:
        if not payload.shipped or payload.parcel_id is None:
            return []  # still in the warehouse: held there, and orders asks its customer
        noted = self.find(recalled_item_id(payload.traceability_code), RecalledItem)
        changed: list[Any] = []
        if noted is None:
            noted = RecalledItem(traceability_code=payload.traceability_code, order_id=payload.order_id,
                                 parcel_id=payload.parcel_id, recall_id=payload.recall_id, reason=payload.reason)
            changed.append(noted)
        parcel = self.parcel(noted.parcel_id)
        return [*changed, *(self._recall_claim(parcel, noted) if parcel else [])]

    def on_parcel_packed(self, payload: ParcelPacked, envelope: Any) -> list[Any]:
        changed = super().on_parcel_packed(payload, envelope)
        parcel = changed[0]
        for item in payload.items:
            noted = self.find(recalled_item_id(item.traceability_code), RecalledItem)
            if noted is not None and noted.parcel_id == parcel.parcel_id:
                changed += self._recall_claim(parcel, noted)
        return changed

    def _recall_claim(self, parcel: Any, noted: RecalledItem) -> list[Any]:
        from services.claims.app import SYSTEM, automatic_claim_id  # the app module imports this one

        code = noted.traceability_code
        claim_id = automatic_claim_id(RECALL, f"{noted.recall_id}/{code}")
        if not parcel.is_packed or code not in parcel.items or self.find(claim_id, Claim) is not None:
            return []
        description = f"Recalled: the batch of item {code} was found defective ({noted.reason})."
        try:
            claim = self._new_claim(parcel, RECALL, code, description, [], automatic=True, claim_id=claim_id)
        except DomainError:
            return []  # the item already has an open or approved claim: it is not paid twice
        return self._decide(claim, parcel, True, SYSTEM, description)

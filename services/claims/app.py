"""Claims application: learn about parcels and orders, open claims, decide them under the policy."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Mapping
from uuid import UUID

from service_runtime.auth import AUDITOR, CLAIMS_REVIEWER, SUPPORT_AGENT, Caller
from service_runtime.errors import Conflict, DomainError, Forbidden, NotFound
from service_runtime.store import ServiceApplication
from service_runtime.tracing import stable_id
from services.claims.compensation import RULES_VERSION, evaluate
from services.claims.disputes import reviewed_facts
from services.claims.domain import Claim, ClaimsParcel, parcel_facts_id
from services.claims.guarantees import ClaimsOrder, order_facts_id
from services.claims.abroad_desk import AbroadReturnsDesk
from services.claims.desk import SupportDesk
from services.claims.watch import ParcelWatch

def automatic_claim_id(kind: str, key: Any) -> UUID:
    return stable_id("claims-automatic", kind, key)


STAFF_WHO_READ_CLAIMS = (SUPPORT_AGENT, CLAIMS_REVIEWER, AUDITOR)
SYSTEM = "system:claims"


class ClaimsApplication(ParcelWatch, SupportDesk, AbroadReturnsDesk, ServiceApplication):
    name = "claims"

    def parcel(self, parcel_id: UUID) -> ClaimsParcel | None:
        return self.find(parcel_facts_id(parcel_id), ClaimsParcel)

    def own_parcel(self, caller: Caller, parcel_id: UUID) -> ClaimsParcel:
        """The packed parcel, if the caller is its customer; otherwise the same 404 as an unknown one."""
        parcel = self.parcel(parcel_id)
        if parcel is None or not parcel.is_packed or parcel.customer_id != caller.subject:
            raise NotFound(f"parcel {parcel_id} not found")
        return parcel

    def claim_for(self, caller: Caller, claim_id: UUID) -> Claim:
        """The claim, if the caller may see it; otherwise the same 404 as a missing claim."""
        claim = self.find(claim_id, Claim)
        if claim is None or not caller.can_read_customer_data(claim.customer_id, *STAFF_WHO_READ_CLAIMS):
            raise NotFound(f"claim {claim_id} not found")
        return claim

    def open_claim(self, caller: Caller, parcel_id: UUID, kind: str, traceability_code: str | None,
                   description: str, photos: list[str]) -> Claim:
        def open_once() -> tuple[list, Claim]:
            parcel = self.own_parcel(caller, parcel_id)
            claim = self._new_claim(parcel, kind, traceability_code, description, photos)
            return [parcel, claim], claim

        return self.save_with_retry(open_once)

    def _new_claim(self, parcel: ClaimsParcel, kind: str, traceability_code: str | None, description: str,
                   photos: list[str], automatic: bool = False, claim_id: UUID | None = None) -> Claim:
        claim_id = claim_id or uuid.uuid4()
        parcel.register_claim(claim_id, kind, traceability_code, self.clock.now(), automatic=automatic)
        return Claim(claim_id=claim_id, parcel_id=parcel.parcel_id, customer_id=parcel.customer_id,
                     order_ids=parcel.order_ids, order_id=parcel.order_for(traceability_code), kind=kind,
                     traceability_code=traceability_code, description=description, photos=photos,
                     origin="automatic" if automatic else "customer")

    def decide(self, caller: Caller, claim_id: UUID, approved: bool, notes: str) -> Claim:
        def decide_once() -> tuple[list, Claim]:
            claim = self.claim_for(caller, claim_id)
            if claim.customer_id == caller.subject:
                raise Forbidden("a claim cannot be decided by the customer who opened it")
            if claim.status != "open":
                raise Conflict(f"claim {claim.id} was already decided ({claim.status})")
            if claim.parcel_id is None:  # a line that never reached the warehouse
                order = self.repository.get(order_facts_id(claim.order_id))
                facts = order.line_facts(claim.kind, approved, claim.line_no)
                claim.decide(approved, evaluate(RULES_VERSION, facts), decided_by=caller.subject, notes=notes,
                             now=self.clock.now())
                order.settle_line_claim(claim_id=claim.id, approved=approved)
                return [claim, order, *self.claim_survey(claim)], claim
            parcel = self.repository.get(parcel_facts_id(claim.parcel_id))
            return self._decide(claim, parcel, approved, caller.subject, notes), claim

        return self.save_with_retry(decide_once)

    def open_line_claim(self, caller: Caller, order_id: UUID, line_no: int, description: str) -> Claim:
        """Before the warehouse: the merchant shipped, but the item never reached us."""
        def open_once() -> tuple[list, Claim]:
            order = self.find(order_facts_id(order_id), ClaimsOrder)
            if order is None or order.customer_id != caller.subject:
                raise NotFound(f"order {order_id} not found")
            claim_id = uuid.uuid4()
            order.register_line_claim(claim_id, line_no, "never_arrived", self.clock.now())
            claim = Claim(claim_id=claim_id, parcel_id=None, customer_id=order.customer_id, order_ids=[order_id],
                          order_id=order_id, kind="never_arrived", traceability_code=None, description=description,
                          photos=[], line_no=line_no)
            return [order, claim], claim

        return self.save_with_retry(open_once)

    def confirm_counterfeit(self, caller: Caller, claim_id: UUID, evidence: list[str], notes: str) -> Claim:
        """Zero tolerance through a claim: the claimed item is counterfeit. The customer is refunded
        in full by `claims.CounterfeitConfirmed` (naming the merchant); the claim itself pays nothing
        more, so nothing is paid twice."""
        def attempt() -> tuple[list, Claim]:
            claim = self.claim_for(caller, claim_id)
            if claim.customer_id == caller.subject:
                raise Forbidden("a claim cannot be decided by the customer who opened it")
            if claim.status != "open" or claim.traceability_code is None:
                raise Conflict(f"claim {claim.id} is not an open claim about one item")
            parcel = self.repository.get(parcel_facts_id(claim.parcel_id))
            item = parcel.items[claim.traceability_code]
            order = self.find(order_facts_id(item["order_id"]), ClaimsOrder)
            counterfeit = order and self.counterfeit_of(order, item["line_no"], claim.traceability_code, "claim",
                                                        [*claim.photos, *evidence], f"support_agent:{caller.subject}")
            if not counterfeit:
                raise Conflict(f"item {claim.traceability_code} is already confirmed counterfeit, or its "
                               "merchant is not known yet")
            facts = {**parcel.facts_for(claim.kind, True, claim.traceability_code), "counterfeit": "true",
                     "refund_amount": str(counterfeit.refund_amount)}
            claim.decide(True, evaluate(RULES_VERSION, facts), decided_by=caller.subject, notes=notes,
                         now=self.clock.now())
            parcel.settle_claim(claim_id=claim.id, approved=True)
            return [claim, parcel, counterfeit, *self.claim_survey(claim, parcel.line_code)], claim

        return self.save_with_retry(attempt)

    def dispute(self, caller: Caller, claim_id: UUID, reason: str) -> Claim:
        def attempt() -> tuple[list, Claim]:
            claim = self.claim_for(caller, claim_id)
            if claim.customer_id != caller.subject:
                raise NotFound(f"claim {claim_id} not found")
            claim.dispute(reason, self.clock.now())
            return [claim], claim

        return self.save_with_retry(attempt)

    def review_dispute(self, caller: Caller, claim_id: UUID, approved: bool, notes: str,
                       corrections: Mapping[str, Decimal] | None = None) -> Claim:
        """The second-level review: the facts of the first decision (as corrected by the reviewer),
        judged again under the current rules, paying only what the new decision adds."""
        def attempt() -> tuple[list, Claim]:
            claim = self.claim_for(caller, claim_id)
            if claim.decision is None:
                raise Conflict("this claim has no dispute awaiting review")
            facts = reviewed_facts(claim.decision["inputs"], claim.kind, approved, claim.paid, corrections or {})
            claim.resolve_dispute(approved, evaluate(RULES_VERSION, facts), caller.subject, notes)
            return [claim], claim

        return self.save_with_retry(attempt)

    def _decide(self, claim: Claim, parcel: ClaimsParcel, approved: bool, decided_by: str, notes: str) -> list:
        compensation = evaluate(RULES_VERSION, parcel.facts_for(claim.kind, approved, claim.traceability_code))
        claim.decide(approved, compensation, decided_by=decided_by, notes=notes, now=self.clock.now())
        parcel.settle_claim(claim_id=claim.id, approved=approved)
        return [claim, parcel, *self.claim_survey(claim, parcel.line_code)]

    def claim_survey(self, claim: Claim, line_code: str | None = None) -> list[Any]:
        """A customer's own claim, once decided, offers a satisfaction survey (automatic ones do not)."""
        if getattr(claim, "origin", "customer") != "customer":
            return []
        return self.offer_survey("claim", claim.id, claim.customer_id, claim.order_id, claim.decision["decided_by"],
                                 line_code)

    def compensate_automatically(self, parcel: ClaimsParcel, kind: str, description: str,
                                 key: Any) -> list[Any]:
        """A claim the platform opens and approves itself (a carrier incident, a missed promise),
        decided by the same policy; its id derives from `key` so a second run finds it."""
        claim_id = automatic_claim_id(kind, key)
        if self.find(claim_id, Claim) is not None or not parcel.is_packed:
            return []
        try:
            claim = self._new_claim(parcel, kind, None, description, [], automatic=True, claim_id=claim_id)
        except DomainError:
            return []  # already compensated for this parcel's fate
        return self._decide(claim, parcel, True, SYSTEM, description)

    def compensate_order(self, order: ClaimsOrder, kind: str, description: str) -> list[Any]:
        """An automatic guarantee on an order (not a parcel): claim and decision at once."""
        claim_id = automatic_claim_id(kind, order.order_id)
        if self.find(claim_id, Claim) is not None:
            return []
        claim = Claim(claim_id=claim_id, parcel_id=None, customer_id=order.customer_id, order_ids=[order.order_id],
                      order_id=order.order_id, kind=kind, traceability_code=None, description=description,
                      photos=[], origin="automatic")
        facts = {"kind": kind, "approved": "true", "service_fee": str(order.service_fee)}
        claim.decide(True, evaluate(RULES_VERSION, facts), decided_by=SYSTEM, notes=description,
                     now=self.clock.now())
        order.mark_compensated(claim.id)
        return [claim, order]

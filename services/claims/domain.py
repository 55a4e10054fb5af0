"""Claims aggregates: what claims knows about a delivered parcel, and each after-sales claim."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict, DomainError
from service_runtime.tracing import TracedAggregate, stable_id
from services.claims.compensation import ITEM_KINDS, Compensation
from services.claims.disputes import check_dispute, check_reviewer
from services.claims.windows import check_open

# What became of a parcel that never arrived: it is compensated for one of these, once.
FATE_KINDS = ("lost", "seized", "returned_by_customs", "delayed")
OPEN = "open"
APPROVED = "approved"
REJECTED = "rejected"


def parcel_facts_id(parcel_id: UUID) -> UUID:
    return stable_id("claims-parcel", parcel_id)


# Which agent decided stays inside the company: customers see the decision and its rule.
STAFF_ONLY_DECISION_FIELDS = frozenset({"decided_by"})


def decision_for_customer(decision: dict) -> dict:
    return {k: v for k, v in decision.items() if k not in STAFF_ONLY_DECISION_FIELDS}

class ClaimsParcel(TracedAggregate):
    """The facts about one parcel that claims need, gathered from the warehouse and logistics,
    and the claims opened on it (so that one item has one open claim of a kind at a time)."""

    @staticmethod
    def create_id(parcel_id: UUID) -> UUID:
        return parcel_facts_id(parcel_id)

    @event("Noted")
    def __init__(self, parcel_id: UUID) -> None:
        self.parcel_id = parcel_id
        self.customer_id: str | None = None
        self.order_ids: list[UUID] = []
        self.items: dict[str, dict] = {}  # traceability code -> order_id, line_no, sku, quantity, value
        self.shipping_fee: Decimal | None = None
        self.shipping_payment_id: UUID | None = None
        self.delivered_at: datetime | None = None
        self.receipt_confirmed = False
        self.claims: dict[str, dict] = {}  # claim id -> kind, traceability_code, status
        self._init_international_leg()

    def _init_international_leg(self) -> None:
        self.line_code: str | None = None
        self.chargeable_weight_kg: Decimal | None = None
        self.shipped_at: datetime | None = None
        self.last_scan_at: datetime | None = None
        self.incident: dict | None = None  # the carrier's lost / seized / returned report
        self.insurance: dict | None = None  # insured, declared_value, premium

    # Facts from other services; the same fact twice changes nothing --------------------

    def note_packing(self, customer_id: str, order_ids: list[UUID], items: list[dict]) -> None:
        contents = {item["traceability_code"]: item for item in items}
        if (self.customer_id, self.order_ids, self.items) != (customer_id, list(order_ids), contents):
            self._record_packing(customer_id, list(order_ids), items)

    @event("PackingRecorded")
    def _record_packing(self, customer_id: str, order_ids: list[UUID], items: list[dict]) -> None:
        self.customer_id = customer_id
        self.order_ids = list(order_ids)
        self.items = {item["traceability_code"]: dict(item) for item in items}

    def note_shipping_fee(self, amount: Decimal, payment_id: UUID) -> None:
        if (self.shipping_fee, self.shipping_payment_id) != (amount, payment_id):
            self._record_shipping_fee(amount, payment_id)

    @event("ShippingFeeRecorded")
    def _record_shipping_fee(self, amount: Decimal, payment_id: UUID) -> None:
        self.shipping_fee = amount
        self.shipping_payment_id = payment_id

    def note_line(self, line_code: str, chargeable_weight_kg: Decimal) -> None:
        if (self.line_code, self.chargeable_weight_kg) != (line_code, chargeable_weight_kg):
            self._record_line(line_code, chargeable_weight_kg)

    @event("LineRecorded")
    def _record_line(self, line_code: str, chargeable_weight_kg: Decimal) -> None:
        self.line_code = line_code
        self.chargeable_weight_kg = chargeable_weight_kg

    def note_dispatch(self, shipped_at: datetime) -> None:
        if self.shipped_at is None:
            self._record_dispatch(shipped_at)

    @event("DispatchRecorded")
    def _record_dispatch(self, shipped_at: datetime) -> None:
        self.shipped_at = shipped_at
        self.last_scan_at = self.last_scan_at or shipped_at

    def note_scan(self, at: datetime) -> None:
        if self.last_scan_at is None or at > self.last_scan_at:
            self._record_scan(at)

    @event("ScanRecorded")
    def _record_scan(self, at: datetime) -> None:
        self.last_scan_at = at

    def note_incident(self, incident: str, at: datetime, source: str) -> bool:
        """The first incident (lost, seized, returned) is the parcel's fate; later ones add nothing."""
        if self.incident is not None:
            return False
        self._record_incident(incident, at, source)
        return True

    @event("IncidentRecorded")
    def _record_incident(self, incident: str, at: datetime, source: str) -> None:
        self.incident = {"incident": incident, "at": at, "source": source}

    def note_insurance(self, insured: bool, declared_value: Decimal, premium: Decimal) -> None:
        if self.insurance != {"insured": insured, "declared_value": declared_value, "premium": premium}:
            self._record_insurance(insured, declared_value, premium)

    @event("InsuranceRecorded")
    def _record_insurance(self, insured: bool, declared_value: Decimal, premium: Decimal) -> None:
        self.insurance = {"insured": insured, "declared_value": declared_value, "premium": premium}

    def note_delivery(self, delivered_at: datetime, carrier_event_id: str) -> None:
        """The first 'delivered' scan is the delivery; later ones (resent by the carrier) add nothing."""
        if self.delivered_at is None:
            self._record_delivery(delivered_at, carrier_event_id)

    @event("DeliveryRecorded")
    def _record_delivery(self, delivered_at: datetime, carrier_event_id: str) -> None:
        self.delivered_at = delivered_at

    def note_receipt(self, at: datetime | None = None) -> None:
        if not self.receipt_confirmed:
            self._record_receipt(at=at)

    @event("ReceiptRecorded")
    def _record_receipt(self, at: datetime | None = None) -> None:
        self.receipt_confirmed = True
        self.received_at = at

    # Claims on the parcel ---------------------------------------------------------------

    @property
    def is_packed(self) -> bool:
        return self.customer_id is not None

    @property
    def delivered_or_received_at(self) -> datetime | None:
        # A customer's receipt confirmation also proves delivery, whichever topic arrives first.
        return self.delivered_at or getattr(self, "received_at", None)

    @property
    def item_values(self) -> dict[str, Decimal]:
        return {code: Decimal(item["value"]) for code, item in self.items.items()}

    def order_for(self, traceability_code: str | None) -> UUID:
        """The order a claim concerns: the item's, or for a parcel-level claim the parcel's first."""
        if traceability_code is not None:
            return self.items[traceability_code]["order_id"]
        return self.order_ids[0]

    @property
    def window_starts(self) -> dict[str, datetime | None]:
        return {"delivered": self.delivered_or_received_at, "dispatched": self.shipped_at,
                "incident": self.incident["at"] if self.incident else None}

    @property
    def insured(self) -> bool:
        return bool(self.insurance and self.insurance["insured"])

    def facts_for(self, kind: str, approved: bool, traceability_code: str | None) -> dict[str, str]:
        """What the compensation policy needs to know about this parcel, as recorded text."""
        facts = {"kind": kind, "approved": str(approved).lower(), "insured": str(self.insured).lower()}
        if traceability_code is not None:
            facts.update(traceability_code=traceability_code, item_value=str(self.item_values[traceability_code]),
                         parcel_value=str(sum(self.item_values.values(), Decimal(0))))
        if self.shipping_fee is not None:
            facts["shipping_fee"] = str(self.shipping_fee)
        if self.line_code is not None:
            facts.update(line_code=self.line_code, chargeable_weight_kg=str(self.chargeable_weight_kg))
        if self.insured:
            facts["insured_value"] = str(self.insurance["declared_value"])
        return facts

    def register_claim(self, claim_id: UUID, kind: str, traceability_code: str | None, now: datetime,
                       automatic: bool = False) -> None:
        if kind in ITEM_KINDS and traceability_code not in self.items:
            raise DomainError(f"item {traceability_code} is not in parcel {self.parcel_id}")
        if not automatic:
            check_open(kind, self.window_starts, now)
        if kind in ("seized", "returned_by_customs") and (self.incident or {}).get("incident") != kind:
            raise Conflict(f"the carrier has not reported parcel {self.parcel_id} as {kind.replace('_', ' ')}")
        # One item is compensated once, whatever the kind of claim; parcel claims once per kind.
        subject = "item" if traceability_code else "parcel"
        for other_id, other in self.claims.items():
            same_fate = kind in FATE_KINDS and other["kind"] in FATE_KINDS
            if other["traceability_code"] != traceability_code or (
                    subject == "parcel" and other["kind"] != kind and not same_fate):
                continue
            # The claim's id as a field of its own: a client that lost the answer to the request
            # that opened it finds it there (a retry cannot open a second one).
            if other["status"] == OPEN:
                raise Conflict(f"claim {other_id} is already open for this {subject}", existing_claim_id=str(other_id))
            if other["status"] == APPROVED:
                raise Conflict(f"claim {other_id} for this {subject} was already approved and compensated",
                               existing_claim_id=str(other_id))
        self._register_claim(claim_id, kind, traceability_code)

    @event("ClaimRegistered")
    def _register_claim(self, claim_id: UUID, kind: str, traceability_code: str | None) -> None:
        self.claims[str(claim_id)] = {"kind": kind, "traceability_code": traceability_code, "status": OPEN}

    @event("ClaimSettled")
    def settle_claim(self, claim_id: UUID, approved: bool) -> None:
        self.claims[str(claim_id)]["status"] = APPROVED if approved else REJECTED


class Claim(TracedAggregate):
    """A customer's after-sales claim on a delivered parcel, and the support agent's decision."""

    @staticmethod
    def create_id(claim_id: UUID) -> UUID:
        return claim_id

    @event("Opened")
    def __init__(self, claim_id: UUID, parcel_id: UUID, customer_id: str, order_ids: list[UUID], order_id: UUID,
                 kind: str, traceability_code: str | None, description: str, photos: list[str],
                 origin: str = "customer", line_no: int | None = None) -> None:
        self.parcel_id = parcel_id
        self.customer_id = customer_id
        self.order_ids = list(order_ids)
        self.order_id = order_id  # into every event's trace: the claim's events are keyed by this order
        self.kind = kind
        self.traceability_code = traceability_code
        self.description = description
        self.photos = list(photos)
        self.origin = origin  # customer, or automatic (a carrier incident, a missed guarantee)
        self.line_no = line_no  # for a claim about an order line before the warehouse
        self.status = OPEN
        self.decision: dict | None = None

    def decide(self, approved: bool, compensation: Compensation, decided_by: str, notes: str,
               now: datetime | None = None) -> None:
        if self.status != OPEN:
            raise Conflict(f"claim {self.id} was already decided ({self.status})")
        self._decide(**self._decision_fields(approved, compensation, decided_by, notes), decided_at=now)

    def _decision_fields(self, approved: bool, compensation: Compensation, decided_by: str, notes: str) -> dict:
        return dict(claim_id=self.id, parcel_id=self.parcel_id, customer_id=self.customer_id,
                    order_ids=self.order_ids, kind=self.kind, approved=approved, amount=compensation.amount,
                    currency="CNY", rule=compensation.rule, rule_version=compensation.rule_version,
                    inputs=dict(compensation.inputs), decided_by=decided_by, notes=notes,
                    explanation_en=compensation.explanation_en, explanation_zh=compensation.explanation_zh)

    @property
    def paid(self) -> Decimal:
        return sum((d["amount"] for d in [self.decision, *getattr(self, "adjustments", [])] if d), Decimal("0"))

    def dispute(self, reason: str, now: datetime) -> None:
        decided_at = (self.decision or {}).get("decided_at") or self.modified_on
        check_dispute(self.status, decided_at, getattr(self, "dispute_state", None) is not None, now)
        self._dispute(claim_id=self.id, customer_id=self.customer_id, order_ids=self.order_ids, reason=reason,
                      disputed_at=now)

    @event("Disputed")
    def _dispute(self, claim_id: UUID, customer_id: str, order_ids: list, reason: str, disputed_at: datetime) -> None:
        self.dispute_state = {"reason": reason, "disputed_at": disputed_at, "outcome": None}

    def resolve_dispute(self, approved: bool, compensation: Compensation, reviewer: str, notes: str) -> None:
        """Uphold or change the decision; a change that pays more adds the difference as a decision."""
        state = getattr(self, "dispute_state", None)
        check_reviewer(reviewer, self.decision["decided_by"], self.customer_id,
                       state is not None and state["outcome"] is None)
        # Changed: the approval flips, or corrected facts make it pay more (never less: nothing is clawed back).
        changed = approved != self.decision["approved"] or compensation.amount > 0
        self._resolve(claim_id=self.id, customer_id=self.customer_id, order_ids=self.order_ids,
                      outcome="changed" if changed else "upheld", approved=approved, reviewer=reviewer, notes=notes)
        if changed and compensation.amount > 0:
            self._adjust(**self._decision_fields(approved, compensation, reviewer, notes),
                         decision_no=2 + len(getattr(self, "adjustments", [])))

    @event("DisputeResolved")
    def _resolve(self, claim_id: UUID, customer_id: str, order_ids: list, outcome: str, approved: bool,
                 reviewer: str, notes: str) -> None:
        self.dispute_state = {**self.dispute_state, "outcome": outcome}
        self.status = APPROVED if approved else REJECTED

    @event("Adjusted")
    def _adjust(self, claim_id: UUID, parcel_id: UUID, customer_id: str, order_ids: list[UUID], kind: str,
                approved: bool, amount: Decimal, currency: str, rule: str, rule_version: str,
                inputs: dict, decided_by: str, notes: str, explanation_en: str, explanation_zh: str,
                decision_no: int = 2) -> None:
        self.adjustments = [*getattr(self, "adjustments", []), {"amount": amount, "rule": rule,
                                                                  "rule_version": rule_version,
                                                                  "decision_no": decision_no}]

    @event("Decided")
    def _decide(self, claim_id: UUID, parcel_id: UUID, customer_id: str, order_ids: list[UUID], kind: str,
                approved: bool, amount: Decimal, currency: str, rule: str, rule_version: str,
                inputs: dict, decided_by: str, notes: str, explanation_en: str = "",
                explanation_zh: str = "", decided_at: datetime | None = None) -> None:
        self.status = APPROVED if approved else REJECTED
        self.decision = {"approved": approved, "amount": amount, "currency": currency, "rule": rule,
                         "rule_version": rule_version, "inputs": dict(inputs), "decided_by": decided_by,
                         "notes": notes, "explanation_en": explanation_en, "explanation_zh": explanation_zh,
                         "decided_at": decided_at}


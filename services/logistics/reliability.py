"""Carrier reliability per shipping line, from our own log, and the line a quote recommends (pure).

Every parcel's shipment, carrier scans, customs outcome and after-sales claims are projection
entries under the parcel id; the reliability of a line is computed from those entries when read:
delivery-time percentiles, the share delivered later than the line promises, and loss and damage
rates. A quote recommends the cheapest line that carries the parcel and has a clean record.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from contracts import Envelope, EventPayload
from service_runtime.projections import Entry, Projection
from services.logistics import lines

RELIABILITY_VERSION = "reliability-2026.11"
MIN_SHIPPED = 5  # fewer shipments than this: too few to judge, the line counts as clean
MAX_LOSS_AND_DAMAGE = Decimal("0.05")
MAX_DELAYED = Decimal("0.25")
LOST_CLAIMS = ("shipping_anomaly",)
DAMAGE_CLAIMS = ("damaged",)


def reliability_entries(envelope: Envelope, payload: EventPayload) -> Iterable[Entry]:
    data = payload.model_dump(mode="json")
    event_id = str(envelope.event_id)
    if envelope.type == "logistics.ParcelShipped":
        fact = {"fact": "shipped", "line_code": data["line_code"], "at": envelope.occurred_at.isoformat()}
    elif envelope.type == "logistics.TrackingUpdated" and data["status"] == "delivered":
        fact = {"fact": "delivered", "at": data["carrier_time"]}
    elif envelope.type == "logistics.CustomsStatusReported" and data["status"] == "customs_seized":
        fact = {"fact": "lost", "at": data["carrier_time"]}
    elif envelope.type == "claims.ClaimOpened" and data["kind"] in LOST_CLAIMS + DAMAGE_CLAIMS:
        fact = {"fact": "lost" if data["kind"] in LOST_CLAIMS else "damaged", "at": envelope.occurred_at.isoformat()}
    else:
        return []
    return [Entry(data["parcel_id"], fact["at"], event_id, fact)]


def _rate(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP) if whole else Decimal("0.00")


def _percentile(values: list[Decimal], share: int) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, (len(ordered) * share + 99) // 100 - 1)]


def reliability_by_line(parcels: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per line: shipped, delivered, p50/p90 days, delay, loss and damage rates."""
    stats = {line.code: {"shipped": 0, "days": [], "delayed": 0, "lost": 0, "damaged": 0} for line in lines.LINES}
    for entries in parcels.values():
        facts = {}
        for entry in entries:
            facts.setdefault(entry["fact"], entry)  # the first of each fact counts
        shipped = facts.get("shipped")
        if shipped is None or shipped["line_code"] not in stats:
            continue
        line, counts = lines.line_by_code(shipped["line_code"]), stats[shipped["line_code"]]
        counts["shipped"] += 1
        counts["lost"] += "lost" in facts
        counts["damaged"] += "damaged" in facts
        if "delivered" in facts:
            took = datetime.fromisoformat(facts["delivered"]["at"]) - datetime.fromisoformat(shipped["at"])
            days = (Decimal(took.total_seconds()) / 86400).quantize(Decimal("0.1"), ROUND_HALF_UP)
            counts["days"].append(days)
            counts["delayed"] += days > line.transit_days_max
    return {code: {"shipped": c["shipped"], "delivered": len(c["days"]),
                   "delivery_days_p50": _percentile(c["days"], 50), "delivery_days_p90": _percentile(c["days"], 90),
                   "delay_rate": _rate(c["delayed"], len(c["days"])), "loss_rate": _rate(c["lost"], c["shipped"]),
                   "damage_rate": _rate(c["damaged"], c["shipped"]), "version": RELIABILITY_VERSION}
            for code, c in stats.items()}


def clean(record: dict[str, Any]) -> bool:
    if record["shipped"] < MIN_SHIPPED:
        return True
    return (record["loss_rate"] + record["damage_rate"] <= MAX_LOSS_AND_DAMAGE
            and record["delay_rate"] <= MAX_DELAYED)


def recommended(offers: list[lines.LineQuote], reliability: dict[str, dict[str, Any]]) -> str | None:
    """The cheapest line that carries the parcel with a clean record; else the cheapest that carries it."""
    carried = sorted((o for o in offers if not o.refused), key=lambda o: (o.price, o.line.code))
    good = [o for o in carried if clean(reliability[o.line.code])]
    choice = (good or carried or [None])[0]
    return choice.line.code if choice else None


RELIABILITY = Projection(name="carrier_reliability", sources=("logistics", "claims"), entries=reliability_entries,
                         view=lambda key, entries: {"parcel_id": key, "facts": entries})

"""Carrier reliability per line from the log, and the line a quote recommends."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

from services.logistics import lines
from services.logistics.reliability import recommended, reliability_by_line

PARCEL = SimpleNamespace(weight_kg=Decimal("1.0"), length_cm=Decimal("30"), width_cm=Decimal("20"),
                         height_cm=Decimal("10"), items=[{"traceability_code": "KF1", "sku": "shirt",
                                                          "category": "general"}])


def parcels(line: str, count: int, days: int, lost: int = 0, damaged: int = 0) -> dict:
    found = {}
    for n in range(count):
        facts = [{"fact": "shipped", "line_code": line, "at": "2026-11-01T00:00:00+00:00"}]
        if n < lost:
            facts.append({"fact": "lost", "at": "2026-11-20T00:00:00+00:00"})
        else:
            arrived = datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(days=days + n % 2)
            facts.append({"fact": "delivered", "at": arrived.isoformat()})
        if n < damaged:
            facts.append({"fact": "damaged", "at": "2026-11-25T00:00:00+00:00"})
        found[f"{line}-{n}"] = facts
    return found


def test_the_record_of_each_line():
    record = reliability_by_line({**parcels("economy-air", 10, 12, lost=1, damaged=1), **parcels("express", 4, 4)})
    economy = record["economy-air"]
    assert (economy["shipped"], economy["delivered"]) == (10, 9)
    assert (economy["delivery_days_p50"], economy["delivery_days_p90"]) == (Decimal("13.0"), Decimal("13.0"))  # 4 x 12, 5 x 13
    assert (economy["loss_rate"], economy["damage_rate"], economy["delay_rate"]) == (
        Decimal("0.10"), Decimal("0.10"), Decimal("0.00"))
    assert record["express"]["shipped"] == 4 and record["sea-freight"]["shipped"] == 0


def test_the_quote_recommends_the_cheapest_line_with_a_clean_record():
    offers = lines.quote(PARCEL)
    cheapest = min((o for o in offers if not o.refused), key=lambda o: o.price).line.code
    assert recommended(offers, reliability_by_line({})) == cheapest  # no history: the cheapest
    lossy = reliability_by_line(parcels(cheapest, 10, 12, lost=3))
    assert recommended(offers, lossy) not in (cheapest, None)
    late = reliability_by_line(parcels(cheapest, 10, 40))  # far beyond the line's promise
    assert late[cheapest]["delay_rate"] == Decimal("1.00") and recommended(offers, late) != cheapest

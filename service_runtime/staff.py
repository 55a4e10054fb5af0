"""What a customer sees of the staff who acted for them: a team, never a person (pure).

Staff and auditors read the subject (`warehouse_staff:li-wei`); customers read the team
(`warehouse team`). One table for every service, so a timeline and a traceability record agree.
"""

from __future__ import annotations

from typing import Any, Iterable

STAFF_TEAMS = {"purchasing_agent": "purchasing team", "warehouse_staff": "warehouse team",
               "logistics_staff": "logistics team", "support_agent": "support team", "risk_analyst": "risk team",
               "auditor": "audit team", "admin": "operations team", "staff": "operations team",
               "claims_reviewer": "claims review team"}
QC_TEAM = "QC team"


def actor_for_customer(actor: str) -> str:
    """A staff subject becomes its team; customers, carriers and the system stay as they are."""
    return STAFF_TEAMS.get(actor.partition(":")[0], actor)


def without_staff_ids(record: dict[str, Any], id_fields: Iterable[str], team: str | None = None) -> dict[str, Any]:
    """A record for a customer: its actor as a team, the fields naming a member of staff dropped,
    and `team` (when given) saying which team did it."""
    shown = {k: v for k, v in record.items() if k not in set(id_fields)}
    if "actor" in shown:
        shown["actor"] = actor_for_customer(shown["actor"])
    if team is not None:
        shown["team"] = team
    return shown

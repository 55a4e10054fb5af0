"""Customers see which team acted on their timeline, never which member of staff."""

import pytest

from services.orders.timeline import actor_for_customer


@pytest.mark.parametrize("actor, shown", [
    ("warehouse_staff:li-wei", "warehouse team"), ("purchasing_agent:agent-7", "purchasing team"),
    ("support_agent:s-2", "support team"), ("staff:multi-role", "operations team"),
    ("customer:alice", "customer:alice"), ("carrier:fake-express", "carrier:fake-express"),
    ("system:orders", "system:orders"),
])
def test_staff_subjects_become_teams(actor, shown):
    assert actor_for_customer(actor) == shown

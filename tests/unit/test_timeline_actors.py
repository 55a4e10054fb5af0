"""Customers see which team acted on their timeline, never which member of staff."""

import pytest

from service_runtime.staff import actor_for_customer


@pytest.mark.parametrize("actor, shown", [
    ("warehouse_staff:li-wei", "warehouse team"), ("purchasing_agent:agent-7", "purchasing team"),
    ("support_agent:s-2", "support team"), ("staff:multi-role", "operations team"),
    ("customer:alice", "customer:alice"), ("carrier:fake-express", "carrier:fake-express"),
    ("system:orders", "system:orders"),
])
def test_staff_subjects_become_teams(actor, shown):
    assert actor_for_customer(actor) == shown


def test_the_customers_traceability_record_names_teams_and_staff_keep_the_ids():
    from services.warehouse.projections import trace_for_customer, trace_view

    entries = [
        {"fact": "received", "at": "t1", "actor": "warehouse_staff:li-wei", "event_id": "e1", "owner": "alice",
         "staff_id": "li-wei", "platform": "taobao"},
        {"fact": "special_inspection", "at": "t2", "actor": "warehouse_staff:qc-9", "event_id": "e2",
         "inspector_id": "qc-9", "passed": True},
        {"fact": "inspection", "at": "t3", "actor": "warehouse_staff:qc-9", "event_id": "e3", "staff_id": "qc-9",
         "passed": True},
        {"fact": "receipt_confirmed", "at": "t4", "actor": "customer:alice", "event_id": "e4"},
    ]
    staff_view = trace_view("KF-1", entries)
    customer_view = trace_for_customer(staff_view)
    assert staff_view["warehouse"]["inspection"]["staff_id"] == "qc-9"  # auditors keep who did it
    assert "li-wei" not in str(customer_view) and "qc-9" not in str(customer_view)
    assert customer_view["warehouse"]["inspection"]["team"] == "QC team"
    assert customer_view["warehouse"]["special_inspection"]["team"] == "QC team"
    assert customer_view["warehouse"]["received"]["actor"] == "warehouse team"
    assert customer_view["delivery"]["actor"] == "customer:alice" and "team" not in customer_view["delivery"]
    assert customer_view["origin"] == staff_view["origin"]

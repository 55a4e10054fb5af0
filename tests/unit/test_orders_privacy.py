"""The customer's profile in process: sealed in the events it publishes, erased by its key."""

import pytest

from services.orders.bootstrap import bootstrap
from tests.apptest import ServiceHarness

PROFILE = {"name": "Alice Liddell", "address": "7 Rabbit Hole, Oxford", "phone": "+44 1865 000000",
           "email": "alice@example.org", "comments": "ring twice"}


@pytest.fixture
def orders(tmp_path):
    return ServiceHarness(bootstrap, tmp_path)


def test_the_profile_is_sealed_in_events_and_erased_with_its_key(orders):
    alice, bob = orders.as_("alice", "customer"), orders.as_("bob", "customer")
    assert orders.client.put("/me/profile", headers=alice, json=PROFILE).json()["email"] == "alice@example.org"
    orders.client.put("/me/profile", headers=bob, json={**PROFILE, "name": "Bob"})
    (updated, _) = [e for e in orders.published() if e.type == "orders.CustomerProfileUpdated"]
    assert all(value.startswith("pii:v1:") for key, value in updated.payload.items() if key != "customer_id")
    assert "Alice" not in updated.model_dump_json()

    erased = orders.client.post("/me/erasure", headers=alice).json()
    assert erased["erased"] and any("amounts" in kept for kept in erased["kept"])
    profile = orders.client.get("/me/profile", headers=alice).json()
    assert profile["erased"] and profile["name"] == profile["comments"] == "[erased]"
    assert orders.client.get("/me/profile", headers=bob).json()["name"] == "Bob"
    assert orders.published_types()[-1] == "orders.CustomerErased"


def test_bad_contact_details_are_refused_and_staff_have_no_me(orders):
    alice = orders.as_("alice", "customer")
    bad = orders.client.put("/me/profile", headers=alice, json={**PROFILE, "email": "not-an-email"})
    assert bad.status_code == 422 and "not-an-email" not in bad.text
    staff = orders.as_("s-1", "support_agent")
    assert orders.client.get("/me/data-export", headers=staff).status_code == 403

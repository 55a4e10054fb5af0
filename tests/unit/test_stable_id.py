"""Ids derived from their parts: the same in every process, and derived once per process."""

from __future__ import annotations

import uuid

from service_runtime import tracing
from service_runtime.tracing import KONGFU_NAMESPACE, stable_id


def test_the_same_parts_give_the_name_based_uuid_every_process_derives():
    order = uuid.UUID("0b4c9f6e-2a57-4b8e-9d0f-5f0b1a2c3d4e")
    assert stable_id("timer", "parcel.stuck", order) == uuid.uuid5(KONGFU_NAMESPACE, f"timer/parcel.stuck/{order}")
    assert stable_id("timer", "parcel.stuck", order) == stable_id("timer", "parcel.stuck", str(order))
    assert stable_id("timer", "parcel.stuck", order) != stable_id("timer", "parcel.lost", order)


def test_an_id_asked_for_again_is_not_hashed_again(monkeypatch):
    hashed = []
    real = uuid.uuid5
    monkeypatch.setattr(tracing.uuid, "uuid5", lambda namespace, name: (hashed.append(name), real(namespace, name))[1])
    subject = uuid.uuid4()  # a name no earlier test asked for
    first = stable_id("event", "orders", subject, 3)
    assert [stable_id("event", "orders", subject, 3) for _ in range(10)] == [first] * 10
    assert hashed == [f"event/orders/{subject}/3"]

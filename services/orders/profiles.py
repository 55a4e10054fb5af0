"""A customer's profile: contact details held only as ciphertext (see service_runtime/pii.py)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from service_runtime.tracing import TracedAggregate, stable_id

PERSONAL_FIELDS = ("name", "address", "phone", "email", "comments")


def profile_key(customer_id: str) -> UUID:
    return stable_id("customer-profile", customer_id)


class CustomerProfile(TracedAggregate):
    @staticmethod
    def create_id(customer_id: str) -> UUID:
        return profile_key(customer_id)

    @event("Opened")
    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self.sealed: dict[str, str | None] = dict.fromkeys(PERSONAL_FIELDS)
        self.erasures = 0

    def update(self, sealed: dict[str, str | None]) -> None:
        """`sealed`: every personal field, already encrypted under the customer's key."""
        self._updated(customer_id=self.customer_id, **{name: sealed.get(name) for name in PERSONAL_FIELDS})

    @event("Updated")
    def _updated(self, customer_id: str, name: str | None, address: str | None, phone: str | None,
                 email: str | None, comments: str | None) -> None:
        self.sealed = {"name": name, "address": address, "phone": phone, "email": email, "comments": comments}

    @event("Erased")
    def erase(self, customer_id: str) -> None:
        self.erasures += 1

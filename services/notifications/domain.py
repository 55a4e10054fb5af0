"""Who is told what, how, and whether it was sent (pure: no I/O imports).

A `Recipient` is a customer's contact settings (email, chat webhook, language, channels they
opted out of). An `Owner` remembers whose order or parcel an id is, from the events that say so.
A `Notification` is one message for one event on one channel; its id derives from (event id,
channel), so an event delivered twice makes one notification. It is sent at most once: it is
marked `sending` (and saved) before the channel is called, and a notification found `sending`
after a restart is never sent again (it is reported as unconfirmed instead).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.tracing import TracedAggregate, stable_id

CHANNELS = ("email", "webhook")
LANGUAGES = ("en", "zh")
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


def recipient_id(customer_id: str) -> UUID:
    return stable_id("notification-recipient", customer_id)


def owner_id(kind: str, key: Any) -> UUID:
    return stable_id("notification-owner", kind, key)


def notification_id(event_id: Any, channel: str) -> UUID:
    return stable_id("notification", event_id, channel)


class Recipient(TracedAggregate):
    @staticmethod
    def create_id(customer_id: str, **_: Any) -> UUID:
        return recipient_id(customer_id)

    @event("Registered")
    def __init__(self, customer_id: str, language: str, email: str | None, webhook_url: str | None,
                 opted_out: list[str]) -> None:
        self.customer_id = customer_id
        self._apply(language, email, webhook_url, opted_out)

    @event("Changed")
    def change(self, language: str, email: str | None, webhook_url: str | None, opted_out: list[str]) -> None:
        self._apply(language, email, webhook_url, opted_out)

    def _apply(self, language: str, email: str | None, webhook_url: str | None, opted_out: list[str]) -> None:
        self.language, self.email, self.webhook_url = language, email, webhook_url
        self.opted_out = sorted(set(opted_out))

    def addresses(self) -> dict[str, str]:
        """Channel → address, for the channels this customer can be and wants to be reached on."""
        known = {"email": self.email, "webhook": self.webhook_url}
        return {channel: address for channel, address in known.items()
                if address and channel not in self.opted_out}


class Owner(TracedAggregate):
    """Whose order (or parcel) this is."""

    @staticmethod
    def create_id(kind: str, key: str, **_: Any) -> UUID:
        return owner_id(kind, key)

    @event("Noted")
    def __init__(self, kind: str, key: str, customer_id: str) -> None:
        self.kind, self.key, self.customer_id = kind, key, customer_id


class Notification(TracedAggregate):
    @staticmethod
    def create_id(event_id: str, channel: str, **_: Any) -> UUID:
        return notification_id(event_id, channel)

    @event("Queued")
    def __init__(self, event_id: str, channel: str, customer_id: str, address: str, language: str,
                 kind: str, subject: str, body: str, data: dict) -> None:
        self.event_id, self.channel, self.customer_id, self.address = event_id, channel, customer_id, address
        self.language, self.kind, self.subject, self.body, self.data = language, kind, subject, body, dict(data)
        self.status = QUEUED
        self.error: str | None = None

    @event("Sending")
    def start_sending(self) -> None:
        self.status = SENDING

    @event("Sent")
    def sent(self) -> None:
        self.status = SENT

    @event("Failed")
    def failed(self, error: str) -> None:
        self.status, self.error = FAILED, error

"""Notifications application: customers' contact settings, a notification per event and channel,
and the dispatcher that sends each one at most once."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Mapping
from uuid import UUID

from eventsourcing.utils import get_topic

from service_runtime.store import ServiceApplication
from service_runtime.wakeup import SAFETY_POLL_SECONDS, work_when_woken
from services.notifications.channels import ChannelError
from services.notifications.domain import QUEUED, Notification, Owner, Recipient, owner_id, recipient_id
from services.notifications.templates import render

log = logging.getLogger("kongfu.notifications")


class NotificationsApplication(ServiceApplication):
    name = "notifications"

    # Settings -------------------------------------------------------------------------------
    def set_recipient(self, customer_id: str, language: str, email: str | None, webhook_url: str | None,
                      opted_out: list[str]) -> Recipient:
        def change():
            recipient = self.find(recipient_id(customer_id), Recipient)
            if recipient is None:
                recipient = Recipient(customer_id=customer_id, language=language, email=email,
                                      webhook_url=webhook_url, opted_out=opted_out)
            else:
                recipient.change(language, email, webhook_url, opted_out)
            return [recipient], recipient

        return self.save_with_retry(change)

    def recipient(self, customer_id: str) -> Recipient | None:
        return self.find(recipient_id(customer_id), Recipient)

    # Whose is it ------------------------------------------------------------------------------
    def note_owner(self, kind: str, key: Any, customer_id: str) -> list[Owner]:
        if owner_id(kind, str(key)) in self.repository:
            return []
        return [Owner(kind=kind, key=str(key), customer_id=customer_id)]

    def owner_of(self, kind: str, key: Any) -> str | None:
        owner = self.find(owner_id(kind, str(key)), Owner)
        return owner.customer_id if owner else None

    # One notification per event and channel ---------------------------------------------------
    def queue_notifications(self, customer_id: str | None, event_id: Any, kind: str, values: dict[str, Any]) -> list[Notification]:
        recipient = self.recipient(customer_id) if customer_id else None
        if recipient is None:
            return []  # nobody to tell: the customer has left no address
        out = []
        for channel, address in sorted(recipient.addresses().items()):
            if Notification.create_id(str(event_id), channel) in self.repository:
                continue
            subject, body = render(kind, recipient.language, values)
            out.append(Notification(event_id=str(event_id), channel=channel, customer_id=customer_id,
                                    address=address, language=recipient.language, kind=kind, subject=subject,
                                    body=body, data={}))
        return out

    # Dispatch: at most once --------------------------------------------------------------------
    QUEUED_TOPIC = get_topic(Notification.Queued)

    def queued_since(self, position: int, limit: int = 200) -> tuple[list[UUID], int]:
        notifications = self.recorder.select_notifications(position + 1, limit, topics=[self.QUEUED_TOPIC])
        last = notifications[-1].id if notifications else position
        return [n.originator_id for n in notifications], last

    def send_one(self, notification_id: UUID, channels: Mapping[str, Any]) -> str:
        notification = self.find(notification_id, Notification)
        if notification is None or notification.status != QUEUED:
            return "skipped"  # sent, failed, or claimed by a sender that may have sent it: never twice
        notification.start_sending()
        self.save(notification)  # a version conflict here means another sender claimed it first
        try:
            channels[notification.channel].send(notification)
        except ChannelError as exc:
            notification.failed(str(exc))
            self.save(notification)
            return "failed"
        notification.sent()
        self.save(notification)
        return "sent"


class Dispatcher:
    """Follows the queued notifications in the store's log and sends each at most once."""

    def __init__(self, app: NotificationsApplication, channels: Mapping[str, Any], poll_interval: float = 0.2) -> None:
        self.app, self.channels, self.poll_interval = app, dict(channels), poll_interval
        self.position = 0

    def dispatch(self) -> list[str]:
        from eventsourcing.persistence import IntegrityError

        outcomes = []
        while True:
            ids, self.position = self.app.queued_since(self.position)
            for notification_id in ids:
                try:
                    outcomes.append(self.app.send_one(notification_id, self.channels))
                except IntegrityError:
                    outcomes.append("skipped")
            if not ids:
                return outcomes

    async def run(self, stop: asyncio.Event) -> None:
        """Send what is queued; at rest sleep until a save (a notification queued) wakes it."""
        await work_when_woken(self.app.new_events, stop, self.dispatch, sleep=lambda: SAFETY_POLL_SECONDS,
                              retry_after=self.poll_interval, failure="notification dispatch failed; retrying",
                              reads=[self.app.QUEUED_TOPIC])

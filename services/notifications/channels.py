"""Channels a notification goes out on: email over SMTP, and a signed webhook for chat gateways
(WhatsApp, WeChat). Both behind one port: `send(notification)`; a failure raises ChannelError."""

from __future__ import annotations

import json
import smtplib
import time
from email.message import EmailMessage
from typing import Protocol

import httpx

from service_runtime.signing import sign

WEBHOOK_SIGNATURE_HEADER = "Kongfu-Signature"


class ChannelError(Exception):
    pass


class Outgoing(Protocol):
    event_id: str
    address: str
    language: str
    kind: str
    subject: str
    body: str
    id: object


class SmtpChannel:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, notification: Outgoing) -> None:
        message = EmailMessage()
        message["From"], message["To"] = self.sender, notification.address
        message["Subject"] = notification.subject
        message["Message-ID"] = f"<{notification.id}@notifications.kongfumall>"  # one id per notification
        message.set_content(notification.body)
        message["Content-Language"] = "zh-CN" if notification.language == "zh" else "en"  # after set_content
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"smtp: {type(exc).__name__}") from exc


class WebhookChannel:
    """POSTs JSON signed with HMAC-SHA256 (`Kongfu-Signature: t=<ts>,v1=<hex>` over "<ts>.<body>")."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def send(self, notification: Outgoing) -> None:
        body = json.dumps({"notification_id": str(notification.id), "event_id": notification.event_id,
                           "kind": notification.kind, "language": notification.language,
                           "subject": notification.subject, "text": notification.body},
                          ensure_ascii=False).encode()
        headers = {"content-type": "application/json",
                   WEBHOOK_SIGNATURE_HEADER: sign(self.secret, body, int(time.time()))}
        try:
            response = httpx.post(notification.address, content=body, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise ChannelError(f"webhook: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise ChannelError(f"webhook answered {response.status_code}")

"""Wiring: settings → the notifications application, its reactions, its channels and dispatcher."""

from __future__ import annotations

from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from services.notifications import api, consumers
from services.notifications.app import Dispatcher, NotificationsApplication
from services.notifications.channels import SmtpChannel, WebhookChannel


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("notifications", NotificationsApplication, {}, settings, api.router, consumers.handlers,
                     consumers.CONSUMES)
    channels = {"email": SmtpChannel(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
                "webhook": WebhookChannel(settings.resolved_notification_secret())}
    parts.worker_tasks = [Dispatcher(parts.app, channels).run]
    return parts

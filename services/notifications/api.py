"""The notifications gateway: a customer's contact settings and channel opt-outs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import Field

from service_runtime.auth import CUSTOMER, Caller
from service_runtime.errors import NotFound
from service_runtime.http import require_roles
from service_runtime.requests import Strict
from services.notifications.app import NotificationsApplication

Channel = Literal["email", "webhook"]


class RecipientSettings(Strict):
    language: Literal["en", "zh"] = Field(description="the language notifications are written in")
    email: Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$", max_length=320)] | None = None
    webhook_url: Annotated[str, Field(pattern=r"^https?://[^\s]{3,2000}$")] | None = Field(
        default=None, description="a chat gateway (WhatsApp, WeChat) that receives signed JSON")
    opted_out: list[Channel] = Field(default_factory=list, max_length=2, description="channels never to use")


class RecipientView(RecipientSettings):
    customer_id: str


def router(app: NotificationsApplication) -> APIRouter:
    api = APIRouter(prefix="/me/notification-settings", tags=["notifications"])

    @api.put("", response_model=RecipientView)
    def set_settings(body: RecipientSettings, caller: Caller = Depends(require_roles(CUSTOMER))):
        recipient = app.set_recipient(caller.subject, body.language, body.email, body.webhook_url, body.opted_out)
        return _view(recipient)

    @api.get("", response_model=RecipientView)
    def get_settings(caller: Caller = Depends(require_roles(CUSTOMER))):
        recipient = app.recipient(caller.subject)
        if recipient is None:
            raise NotFound("no notification settings yet")
        return _view(recipient)

    return api


def _view(recipient) -> RecipientView:
    return RecipientView(customer_id=recipient.customer_id, language=recipient.language, email=recipient.email,
                         webhook_url=recipient.webhook_url, opted_out=recipient.opted_out)

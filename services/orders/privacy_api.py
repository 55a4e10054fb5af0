"""The customer's own data: profile, data export (GDPR art. 15/20) and erasure (art. 17)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from service_runtime.auth import CUSTOMER, Caller
from service_runtime.http import require_roles
from service_runtime.pii import ERASED
from service_runtime.projections import ProjectionStore
from service_runtime.requests import Strict
from services.orders.api import OrderView
from services.orders.app import OrdersApplication
from services.orders.privacy import KEPT_AFTER_ERASURE
from services.orders.profiles import PERSONAL_FIELDS
from services.orders.projections import (
    CUSTOMER_DATA,
    TIMELINE,
    customer_data_view,
    timeline_for_customer,
    timeline_view,
)


class ProfileRequest(Strict):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=1000)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9 ()\-]{4,40}$")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    comments: str | None = Field(default=None, max_length=2000, description="Free text, e.g. delivery notes")


class ProfileView(BaseModel):
    customer_id: str
    name: str | None
    address: str | None
    phone: str | None
    email: str | None
    comments: str | None
    erased: bool


def router(app: OrdersApplication, store: ProjectionStore) -> APIRouter:
    api = APIRouter(prefix="/me", tags=["your data"])

    def profile_view(customer_id: str, sealed: dict | None) -> ProfileView:
        fields = app.readable(customer_id, sealed) if sealed else dict.fromkeys(PERSONAL_FIELDS)
        return ProfileView(customer_id=customer_id, **fields,
                           erased=any(value == ERASED for value in fields.values()))

    @api.put("/profile", response_model=ProfileView)
    def update_profile(body: ProfileRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Your contact details; stored and published only encrypted under your own key."""
        profile = app.update_profile(caller.subject, body.model_dump())
        return profile_view(caller.subject, profile.sealed)

    @api.get("/profile", response_model=ProfileView)
    def get_profile(caller: Caller = Depends(require_roles(CUSTOMER))):
        profile = app.profile_of(caller.subject)
        return profile_view(caller.subject, profile.sealed if profile else None)

    @api.get("/data-export")
    def data_export(caller: Caller = Depends(require_roles(CUSTOMER))) -> dict[str, Any]:
        """Everything the platform holds about you, as one JSON document: your profile, your orders
        (lines, payments, refunds) and each order's timeline (purchase, inspection photos, parcels,
        shipping, claims and compensation)."""
        held = customer_data_view(caller.subject, store.entries(CUSTOMER_DATA.name, caller.subject))
        orders = [app.order_for(caller, UUID(order_id)) for order_id in held["orders"]]
        return {
            "customer_id": caller.subject,
            "profile": profile_view(caller.subject, held["profile"]).model_dump(),
            "erased_at": held["erased_at"],
            "orders": [OrderView.of(order).model_dump(mode="json") for order in orders],
            "timelines": [timeline_for_customer(timeline_view(order_id, store.entries(TIMELINE.name, order_id)))
                          for order_id in held["orders"]],
        }

    @api.post("/erasure")
    def erasure(caller: Caller = Depends(require_roles(CUSTOMER))) -> dict[str, Any]:
        """Erase your personal data: your key is destroyed, so every copy of it (events, topics,
        projections, backups) becomes unreadable at once. Financial records stay, without you."""
        app.erase(caller.subject)
        return {"customer_id": caller.subject, "erased": True, "kept": KEPT_AFTER_ERASURE}

    return api

"""The envelope around every published event."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID = Field(description="Stable: derived from aggregate id + version.")
    type: str = Field(pattern=r"^[a-z]+\.[A-Za-z]+$", examples=["orders.OrderPlaced"])
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    producer: str
    aggregate_id: UUID
    aggregate_version: int = Field(ge=1)
    order_id: UUID | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = Field(default=None, description="who caused it: role:subject, carrier:name, system:service")
    payload: dict[str, Any]
